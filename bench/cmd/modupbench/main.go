// Command modupbench measures modup against the tools people would script
// instead, on workloads it generates and serves on loopback.
//
//	modupbench run -modup ./modup [-quick] [-reps 5] [-rows update,rss,check,list,daemon,index,repos] [-o results.md]
//	modupbench zip -o out.zip -mb 200 -files 20000 [-version 1.0.0]
//	modupbench root -o DIR -n 10000 -url http://127.0.0.1:PORT
//	modupbench serve -dir DIR
//
// bench/run.sh installs the baselines, builds modup and this command, and
// runs `modupbench run`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/modup/modup/bench/internal/server"
	"github.com/modup/modup/bench/internal/workload"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "modupbench: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: modupbench run|zip|root|serve [flags]")
	}
	switch args[0] {
	case "run":
		return runBench(ctx, args[1:])
	case "zip":
		fs := flag.NewFlagSet("zip", flag.ExitOnError)
		out := fs.String("o", "bench.zip", "output zip")
		mb := fs.Int64("mb", 200, "approximate zip size in MB")
		files := fs.Int("files", 20000, "files in the zip")
		version := fs.String("version", "1.0.0", "package version")
		name := fs.String("name", "bigpkg", "package name")
		seed := fs.Uint64("seed", 1, "content seed")
		fs.Parse(args[1:])
		info, err := workload.WriteZip(*out, workload.ZipSpec{Name: *name, Version: *version, Files: *files, Bytes: *mb << 20, Seed: *seed})
		if err != nil {
			return err
		}
		fmt.Printf("%s: %d files, %d folders, zip %.1f MB, unpacked %.1f MB, sha256 %s\n",
			*out, info.Files, info.Dirs, mib(info.ZipBytes), mib(info.RawBytes), info.SHA256)
		return nil
	case "root":
		fs := flag.NewFlagSet("root", flag.ExitOnError)
		out := fs.String("o", "root", "root folder to fill")
		n := fs.Int("n", 10000, "packages")
		url := fs.String("url", "http://127.0.0.1:8080", "the bench server's URL")
		fs.Parse(args[1:])
		return workload.WriteRoot(*out, *n, *url)
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ExitOnError)
		dir := fs.String("dir", ".", "folder served under /static/")
		fs.Parse(args[1:])
		s, err := server.Start(*dir)
		if err != nil {
			return err
		}
		defer s.Close()
		fmt.Printf("serving %s at %s/static/ and synthetic packages at %s/p/<name>/\n", *dir, s.URL, s.URL)
		<-ctx.Done()
		c := s.Counts()
		fmt.Printf("requests %d: 200 %d, 304 %d, other %d, body bytes %d\n", c.Requests, c.OK, c.NotMod, c.Other, c.BodyBytes)
		return nil
	}
	return fmt.Errorf("unknown command %q (want run, zip, root or serve)", args[0])
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
