// Command validate copies a bucket from an S3 endpoint into a local bucket directory (the
// layout of `opentrail serve --data-dir`: <dir>/buckets), objects and user metadata, so that
// `opentrail validate-logs --data-dir` can validate the very files the AWS CLI validated
// through S3. run.sh uses it.
//
//	go run ./bench/validate -s3-endpoint http://127.0.0.1:7070 -key ID -secret SECRET -bucket logs -dir /var/tmp/x
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/opentrail/opentrail/internal/blob"
)

func main() {
	o := blob.S3Options{}
	flag.StringVar(&o.Endpoint, "s3-endpoint", "", "S3 endpoint holding the bucket")
	flag.StringVar(&o.AccessKeyID, "key", "", "access key ID")
	flag.StringVar(&o.SecretAccessKey, "secret", "", "secret access key")
	bucket := flag.String("bucket", "", "bucket to copy")
	dir := flag.String("dir", "", "data directory: the bucket goes to <dir>/buckets/<bucket>")
	workers := flag.Int("workers", 8, "parallel copies")
	flag.Parse()
	if err := run(o, *bucket, *dir, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "bench/validate:", err)
		os.Exit(1)
	}
}

func run(o blob.S3Options, bucket, dir string, workers int) error {
	if o.Endpoint == "" || bucket == "" || dir == "" {
		return errors.New("-s3-endpoint, -bucket and -dir are required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	src, err := blob.NewS3(o)
	if err != nil {
		return err
	}
	dst := blob.NewDir(filepath.Join(dir, "buckets"))
	if err := dst.CreateBucket(ctx, bucket); err != nil && !errors.Is(err, blob.ErrBucketExists) {
		return err
	}
	keys := make(chan string)
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for k := range keys {
				obj, err := src.Get(ctx, bucket, k)
				if err == nil {
					err = dst.Put(ctx, bucket, k, obj.Body, blob.PutOptions{Metadata: obj.Metadata})
				}
				if err != nil {
					errc <- err
					cancel()
					return
				}
			}
		})
	}
	n := 0
	listErr := src.List(ctx, bucket, "", "", func(obj blob.Object) error {
		select {
		case keys <- obj.Key:
			n++
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(keys)
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	if listErr != nil {
		return listErr
	}
	fmt.Printf("copied %d objects of %s to %s\n", n, bucket, filepath.Join(dir, "buckets", bucket))
	return nil
}
