module github.com/modup/modup

go 1.26.8
