#include "textflag.h"

// AVX2 forms of the kernels in kernels.go; lengths are multiples of 8 (and
// of bs). Y15 holds MaxInt32 in every lane where a kernel needs it.

// BROADCAST puts the int32 argument arg in every lane of y (through AX
// and x).
#define BROADCAST(arg, x, y) \
	MOVL arg, AX; \
	VMOVD AX, x; \
	VPBROADCASTD x, y

// X0's lowest lane := the smallest lane of Y0 (X1 is scratch).
#define HMIN(Y0, X0, X1) \
	VEXTRACTI128 $1, Y0, X1; \
	VPMINSD X1, X0, X0; \
	VPSHUFD $0x4E, X0, X1; \
	VPMINSD X1, X0, X0; \
	VPSHUFD $0xB1, X0, X1; \
	VPMINSD X1, X0, X0

// func blockMinsAVX2(x []int32, bs int, mins []int32) int32
TEXT ·blockMinsAVX2(SB), NOSPLIT, $0-60
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ bs+24(FP), DX
	MOVQ mins_base+32(FP), DI
	VPCMPEQD Y15, Y15, Y15
	VPSRLD $1, Y15, Y14 // MaxInt32
	VPSLLD $31, Y15, Y13 // MinInt32: the running largest
	SHLQ $2, CX
	ADDQ SI, CX // end of x
bmblock:
	CMPQ SI, CX
	JAE bmdone
	VMOVDQU Y14, Y0
	MOVQ DX, BX
bminner:
	VMOVDQU (SI), Y1
	VPMINSD Y1, Y0, Y0
	VPMAXSD Y1, Y13, Y13
	ADDQ $32, SI
	SUBQ $8, BX
	JNZ bminner
	HMIN(Y0, X0, X1)
	VMOVD X0, (DI)
	ADDQ $4, DI
	JMP bmblock
bmdone:
	VEXTRACTI128 $1, Y13, X1
	VPMAXSD X1, X13, X13
	VPSHUFD $0x4E, X13, X1
	VPMAXSD X1, X13, X13
	VPSHUFD $0xB1, X13, X1
	VPMAXSD X1, X13, X13
	VMOVD X13, AX
	MOVL AX, ret+56(FP)
	VZEROUPPER
	RET

// Y0 := valueOff of the 8 costs at (SI) and offsets at (R8): the sum
// where the cost is below limit (Y12 broadcast), MaxInt32 elsewhere.
#define VALUEOFF \
	VMOVDQU (SI), Y1; \
	VPADDD (R8), Y1, Y2; \
	VPCMPGTD Y1, Y12, Y3; \
	VPXOR Y14, Y3, Y3; \
	VPMAXSD Y3, Y2, Y2

// func blockMinsOffAVX2(x, off []int32, limit int32, bs int, mins []int32)
TEXT ·blockMinsOffAVX2(SB), NOSPLIT, $0-88
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ off_base+24(FP), R8
	BROADCAST(limit+48(FP), X12, Y12)
	MOVQ bs+56(FP), DX
	MOVQ mins_base+64(FP), DI
	VPCMPEQD Y15, Y15, Y15
	VPSRLD $1, Y15, Y14 // MaxInt32
	SHLQ $2, CX
	ADDQ SI, CX
boblock:
	CMPQ SI, CX
	JAE bodone
	VMOVDQU Y14, Y0
	MOVQ DX, BX
boinner:
	VALUEOFF
	VPMINSD Y2, Y0, Y0
	ADDQ $32, SI
	ADDQ $32, R8
	SUBQ $8, BX
	JNZ boinner
	HMIN(Y0, X0, X1)
	VMOVD X0, (DI)
	ADDQ $4, DI
	JMP boblock
bodone:
	VZEROUPPER
	RET

// APPENDBITS appends to (DI)(R9*4) the index R10+b of each bit b set in
// AX, counting them in R9, then jumps to next.
#define APPENDBITS(loop, next) \
loop: \
	BSFL AX, BX; \
	LEAQ (R10)(BX*1), DX; \
	MOVL DX, (DI)(R9*4); \
	INCQ R9; \
	LEAL -1(AX), DX; \
	ANDL DX, AX; \
	JNZ loop; \
	JMP next

// func filterLEAVX2(x []int32, t, eq int32, idx []int32) (n, count int)
TEXT ·filterLEAVX2(SB), NOSPLIT, $0-72
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	BROADCAST(t+24(FP), X14, Y14)
	BROADCAST(eq+28(FP), X13, Y13)
	MOVQ idx_base+32(FP), DI
	XORQ R9, R9 // n
	XORQ R10, R10 // index of (SI)
	VPXOR Y12, Y12, Y12 // minus the count, per lane
flloop:
	CMPQ R10, CX
	JAE fldone
	VMOVDQU (SI)(R10*4), Y0
	VPCMPEQD Y13, Y0, Y1
	VPADDD Y1, Y12, Y12
	VPCMPGTD Y14, Y0, Y2
	VMOVMSKPS Y2, AX
	XORL $0xFF, AX
	JNZ flbits
flnext:
	ADDQ $8, R10
	JMP flloop
	APPENDBITS(flbits, flnext)
fldone:
	VEXTRACTI128 $1, Y12, X1
	VPADDD X1, X12, X0
	VPSHUFD $0x4E, X0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0xB1, X0, X1
	VPADDD X1, X0, X0
	VMOVD X0, AX
	NEGL AX
	MOVQ R9, n+56(FP)
	MOVQ AX, count+64(FP)
	VZEROUPPER
	RET

// func filterLEOffAVX2(x, off []int32, limit, t int32, idx []int32) (n int)
TEXT ·filterLEOffAVX2(SB), NOSPLIT, $0-88
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ off_base+24(FP), R8
	BROADCAST(limit+48(FP), X12, Y12)
	BROADCAST(t+52(FP), X13, Y13)
	MOVQ idx_base+56(FP), DI
	VPCMPEQD Y15, Y15, Y15
	VPSRLD $1, Y15, Y14 // MaxInt32
	XORQ R9, R9
	XORQ R10, R10
	SHLQ $2, CX
	ADDQ SI, CX
foloop:
	CMPQ SI, CX
	JAE fodone
	VALUEOFF
	VPCMPGTD Y13, Y2, Y2
	VMOVMSKPS Y2, AX
	XORL $0xFF, AX
	JNZ fobits
fonext:
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $8, R10
	JMP foloop
	APPENDBITS(fobits, fonext)
fodone:
	MOVQ R9, n+80(FP)
	VZEROUPPER
	RET

// func minIntoAVX2(mins, rows, x []int32, row int32)
TEXT ·minIntoAVX2(SB), NOSPLIT, $0-76
	MOVQ mins_base+0(FP), DI
	MOVQ rows_base+24(FP), R8
	MOVQ x_base+48(FP), SI
	MOVQ x_len+56(FP), CX
	BROADCAST(row+72(FP), X13, Y13)
	XORQ R10, R10
miloop:
	CMPQ R10, CX
	JAE midone
	VMOVDQU (SI)(R10*4), Y0
	VMOVDQU (DI)(R10*4), Y1
	VPCMPGTD Y0, Y1, Y2 // mins > x: x is the new smallest
	VPMINSD Y1, Y0, Y0
	VMOVDQU Y0, (DI)(R10*4)
	VMOVDQU (R8)(R10*4), Y3
	VPXOR Y13, Y3, Y4 // rows ^= (rows ^ row) & new
	VPAND Y2, Y4, Y4
	VPXOR Y4, Y3, Y3
	VMOVDQU Y3, (R8)(R10*4)
	ADDQ $8, R10
	JMP miloop
midone:
	VZEROUPPER
	RET

// func filterEQAVX2(x []int32, v int32, most int, idx []int32) (n int)
TEXT ·filterEQAVX2(SB), NOSPLIT, $0-72
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	BROADCAST(v+24(FP), X14, Y14)
	MOVQ most+32(FP), R11
	MOVQ idx_base+40(FP), DI
	XORQ R9, R9
	XORQ R10, R10
feloop:
	CMPQ R10, CX
	JAE fedone
	CMPQ R9, R11
	JAE fedone
	VMOVDQU (SI)(R10*4), Y0
	VPCMPEQD Y14, Y0, Y2
	VMOVMSKPS Y2, AX
	TESTL AX, AX
	JNZ febits
fenext:
	ADDQ $8, R10
	JMP feloop
	APPENDBITS(febits, fenext)
fedone:
	MOVQ R9, n+64(FP)
	VZEROUPPER
	RET
