package engine

import "golang.org/x/sys/cpu"

// The AVX2 forms of the kernels (kernels_amd64.s), where the processor has
// AVX2; the Go forms elsewhere.
var (
	blockMinsFull    = pick(blockMinsAVX2, blockMinsGo)
	blockMinsOffFull = pick(blockMinsOffAVX2, blockMinsOffGo)
	filterLEFull     = pick(filterLEAVX2, filterLEGo)
	filterLEOffFull  = pick(filterLEOffAVX2, filterLEOffGo)
	minIntoFull      = pick(minIntoAVX2, minIntoGo)
	filterEQFull     = pick(filterEQAVX2, filterEQGo)
)

func pick[F any](avx2, generic F) F {
	if cpu.X86.HasAVX2 {
		return avx2
	}
	return generic
}

//go:noescape
func blockMinsAVX2(x []int32, bs int, mins []int32) int32

//go:noescape
func blockMinsOffAVX2(x, off []int32, limit int32, bs int, mins []int32)

//go:noescape
func filterLEAVX2(x []int32, t, eq int32, idx []int32) (n, count int)

//go:noescape
func filterLEOffAVX2(x, off []int32, limit, t int32, idx []int32) (n int)

//go:noescape
func minIntoAVX2(mins, rows, x []int32, row int32)

//go:noescape
func filterEQAVX2(x []int32, v int32, most int, idx []int32) (n int)
