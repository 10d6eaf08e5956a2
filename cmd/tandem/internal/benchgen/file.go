// Package benchgen makes the seeded cost matrices that `tandem bench`
// solves, and reads and writes them in the benchmark's file format: a
// little-endian int32 rows, int32 cols, then rows×cols int32 costs in row
// order. The same file is handed to scipy (scipy_lsa.py, embedded here) so
// that both solvers see the very same numbers.
package benchgen

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

// MaxCells bounds rows×cols of a file: 200M cells are 800 MB of costs,
// more than any program the benchmark stands for.
const MaxCells = 200_000_000

// headerBytes is the size of the rows and cols header.
const headerBytes = 8

// ErrBadFile is wrapped by every error about a malformed instance file.
var ErrBadFile = errors.New("bad instance file")

// Matrix is a rows×cols cost matrix, row-major: Cost[r*Cols+c] is the cost
// of giving row r (a mentee) to column c (a mentor).
type Matrix struct {
	Rows, Cols int
	Cost       []int32
}

// WriteFile writes m to path in the benchmark's file format. It streams
// through a small buffer so that a 200 MB matrix is not copied whole.
func WriteFile(path string, m Matrix) error {
	if m.Rows <= 0 || m.Cols <= 0 || len(m.Cost) != m.Rows*m.Cols {
		return fmt.Errorf("write %s: a %d×%d matrix with %d costs", path, m.Rows, m.Cols, len(m.Cost))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	buf := make([]byte, 0, 4096)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(m.Rows))
	buf = binary.LittleEndian.AppendUint32(buf, uint32(m.Cols))
	for _, c := range m.Cost {
		if len(buf) == cap(buf) {
			if _, err := w.Write(buf); err != nil {
				f.Close()
				return fmt.Errorf("write %s: %w", path, err)
			}
			buf = buf[:0]
		}
		buf = binary.LittleEndian.AppendUint32(buf, uint32(c))
	}
	if _, err := w.Write(buf); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// ReadFile reads and validates an instance file with one read of the whole
// file. A file larger than any valid instance is refused before reading.
func ReadFile(path string) (Matrix, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Matrix{}, err
	}
	if limit := int64(headerBytes + 4*MaxCells); st.Size() > limit {
		return Matrix{}, fmt.Errorf("%s: %w: %d bytes, more than the %d of a %d-cell matrix", path, ErrBadFile, st.Size(), limit, MaxCells)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Matrix{}, err
	}
	m, err := Decode(data)
	if err != nil {
		return Matrix{}, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Decode parses an instance from the bytes of a file. Its errors wrap
// ErrBadFile and name what is wrong: the header, the sizes, or the length.
func Decode(data []byte) (Matrix, error) {
	if len(data) < headerBytes {
		return Matrix{}, fmt.Errorf("%w: short header: %d bytes, the header is int32 rows and int32 cols (8 bytes)", ErrBadFile, len(data))
	}
	rows := int64(int32(binary.LittleEndian.Uint32(data[0:])))
	cols := int64(int32(binary.LittleEndian.Uint32(data[4:])))
	if rows <= 0 {
		return Matrix{}, fmt.Errorf("%w: header: rows = %d, must be positive", ErrBadFile, rows)
	}
	if cols <= 0 {
		return Matrix{}, fmt.Errorf("%w: header: cols = %d, must be positive", ErrBadFile, cols)
	}
	cells := rows * cols
	if cells > MaxCells {
		return Matrix{}, fmt.Errorf("%w: header: rows×cols = %d×%d = %d cells, more than the %d allowed", ErrBadFile, rows, cols, cells, MaxCells)
	}
	want := headerBytes + 4*cells
	switch got := int64(len(data)); {
	case got < want:
		return Matrix{}, fmt.Errorf("%w: truncated: %d bytes, a %d×%d matrix needs %d", ErrBadFile, got, rows, cols, want)
	case got > want:
		return Matrix{}, fmt.Errorf("%w: trailing bytes: %d bytes, a %d×%d matrix needs %d (%d too many)", ErrBadFile, got, rows, cols, want, got-want)
	}
	cost := make([]int32, cells)
	body := data[headerBytes:]
	for i := range cost {
		cost[i] = int32(binary.LittleEndian.Uint32(body[4*i:]))
	}
	return Matrix{Rows: int(rows), Cols: int(cols), Cost: cost}, nil
}
