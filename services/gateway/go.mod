module github.com/tandem-oss/tandem/services/gateway

go 1.26.8
