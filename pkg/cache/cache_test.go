package cache_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/cache"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

// TestConformance runs the same checks on the in-process cache and on the
// machine's Redis.
func TestConformance(t *testing.T) {
	impls := map[string]func(t *testing.T) cache.Cache{
		"memory": func(*testing.T) cache.Cache { return cache.NewMemory(100) },
		"redis": func(t *testing.T) cache.Cache {
			client, prefix := testkit.Redis(t)
			return cache.NewRedis(client, prefix)
		},
	}
	for name, newCache := range impls {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := newCache(t)

			_, ok, err := c.Get(ctx, "missing")
			require.NoError(t, err)
			require.False(t, ok)

			require.NoError(t, c.Set(ctx, "a", []byte("1"), time.Minute))
			v, ok, err := c.Get(ctx, "a")
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, []byte("1"), v)

			require.NoError(t, c.Set(ctx, "a", []byte("2"), time.Minute))
			v, _, _ = c.Get(ctx, "a")
			require.Equal(t, []byte("2"), v, "set overwrites")

			require.NoError(t, c.Set(ctx, "long", []byte("abcdef"), time.Minute))
			for n, want := range map[int]string{1: "a", 3: "abc", 6: "abcdef", 100: "abcdef"} {
				v, ok, err := c.GetPrefix(ctx, "long", n)
				require.NoError(t, err)
				require.True(t, ok)
				require.Equal(t, want, string(v), "the first %d bytes", n)
			}
			_, ok, err = c.GetPrefix(ctx, "missing", 10)
			require.NoError(t, err)
			require.False(t, ok)

			require.NoError(t, c.Set(ctx, "short", []byte("x"), 50*time.Millisecond))
			testkit.Eventually(t, 5*time.Second, func() bool {
				_, ok, err := c.Get(ctx, "short")
				return err == nil && !ok
			}, "entry expires after its ttl")

			require.NoError(t, c.Delete(ctx, "a", "never-set"))
			_, ok, err = c.Get(ctx, "a")
			require.NoError(t, err)
			require.False(t, ok)
		})
	}
}

func TestRedisKeysAreUnderThePrefix(t *testing.T) {
	client, prefix := testkit.Redis(t)
	c := cache.NewRedis(client, prefix)
	require.NoError(t, c.Set(context.Background(), "k", []byte("v"), time.Minute))
	got, err := client.Get(context.Background(), prefix+"k").Result()
	require.NoError(t, err)
	require.Equal(t, "v", got)
}

func TestRedisDownIsAnErrorNotAPanic(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer client.Close()
	c := cache.NewRedis(client, "x:")
	_, ok, err := c.Get(context.Background(), "k")
	require.Error(t, err)
	require.False(t, ok)
	start := time.Now()
	require.ErrorIs(t, c.Set(context.Background(), "k", []byte("v"), time.Minute), cache.ErrSkipped)
	_, _, err = c.Get(context.Background(), "k")
	require.ErrorIs(t, err, cache.ErrSkipped, "after a failure Redis is skipped")
	require.Less(t, time.Since(start), 100*time.Millisecond, "skipping costs no round trip")
}

func TestMemoryStaysBounded(t *testing.T) {
	c := cache.NewMemory(10)
	ctx := context.Background()
	for i := range 100 {
		require.NoError(t, c.Set(ctx, fmt.Sprint(i), []byte("v"), time.Minute))
	}
	found := 0
	for i := range 100 {
		if _, ok, _ := c.Get(ctx, fmt.Sprint(i)); ok {
			found++
		}
	}
	require.LessOrEqual(t, found, 10)
	_, ok, _ := c.Get(ctx, "99")
	require.True(t, ok, "the newest entry is kept")
}
