//go:build !amd64

package engine

var (
	blockMinsFull    = blockMinsGo
	blockMinsOffFull = blockMinsOffGo
	filterLEFull     = filterLEGo
	filterLEOffFull  = filterLEOffGo
	minIntoFull      = minIntoGo
	filterEQFull     = filterEQGo
)
