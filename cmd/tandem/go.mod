module github.com/tandem-oss/tandem/cmd/tandem

go 1.26.8
