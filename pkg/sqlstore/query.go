package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Scanner is a *sql.Row or *sql.Rows.
type Scanner interface{ Scan(dest ...any) error }

// Querier is a database or a transaction.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// QueryAll runs a query and scans every row with scan.
func QueryAll[T any](ctx context.Context, q Querier, query string, args []any, scan func(Scanner) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("db: query: %w", err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("db: scan: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: rows: %w", err)
	}
	return out, nil
}

// RowsPerInsert bounds the rows of one InsertRows statement, far below
// either engine's bind-parameter limit for tables of up to a few hundred
// columns.
const RowsPerInsert = 100

// InsertRows inserts n rows of cols values each, with multi-row statements
// that start with insert ("INSERT INTO t (…) VALUES "); row returns the
// values of row i.
func InsertRows(ctx context.Context, tx *sql.Tx, insert string, cols, n int, row func(i int) []any) error {
	for start := 0; start < n; start += RowsPerInsert {
		end := min(start+RowsPerInsert, n)
		var b strings.Builder
		b.WriteString(insert)
		args := make([]any, 0, (end-start)*cols)
		for i := start; i < end; i++ {
			if i > start {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for c := range cols {
				if c > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "$%d", len(args)+c+1)
			}
			b.WriteByte(')')
			args = append(args, row(i)...)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}
