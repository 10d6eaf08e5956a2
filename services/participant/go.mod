module github.com/tandem-oss/tandem/services/participant

go 1.26.8
