module github.com/tandem-oss/tandem/gen/openapi

go 1.26.8
