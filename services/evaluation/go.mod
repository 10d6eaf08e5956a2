module github.com/tandem-oss/tandem/services/evaluation

go 1.26.8
