module github.com/tandem-oss/tandem/services/scheduling

go 1.26.8
