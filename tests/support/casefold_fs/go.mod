module tcfs.local/casefoldfs

go 1.26.6

require (
	github.com/hanwen/go-fuse/v2 v2.12.1
	golang.org/x/sys v0.50.0
)
