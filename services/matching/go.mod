module github.com/tandem-oss/tandem/services/matching

go 1.26.8
