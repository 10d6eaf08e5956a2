// Package openapi embeds the generated OpenAPI (Swagger 2.0) document of the
// public HTTP/JSON API.
package openapi

import _ "embed"

// JSON is the merged OpenAPI document of every Tandem service.
//
//go:embed tandem.swagger.json
var JSON []byte
