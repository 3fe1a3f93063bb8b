// casefold-fs mounts a folder as a case-insensitive, case-preserving filesystem, as macOS's
// APFS and Windows' NTFS are by default: `Readme.md` and `README.md` name one entry, which keeps
// the case it was created (or last renamed) with. Linux's own case folding (ext4 casefold) needs
// a kernel built with Unicode tables, which CI machines may lack, so tcfs's tests of such
// filesystems mount this over FUSE instead.
//
// Each entry is stored in the backing folder under its folded name; the names
// entries were given are kept in memory for listings (a symlink can have no user xattr), so a
// backing folder is served by one process from empty.
//
//	casefold-fs BACKING MOUNTPOINT    # serves until unmounted (fusermount3 -u MOUNTPOINT)
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// givenNames holds the name each entry was given, in the case it was given, by backing path.
var givenNames = struct {
	sync.Mutex
	byPath map[string]string
}{byPath: map[string]string{}}

// node is any entry; its backing path is its path below the mount, folded.
type node struct {
	fs.Inode
	backing string
}

// fold maps each character as Unicode's simple case folding does, as APFS does: Greek's final
// sigma (ς) and long s (ſ) fold with σ and s, where lower-casing alone keeps them apart.
func fold(name string) string {
	return strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, name)
}

func (n *node) path() string {
	return filepath.Join(n.backing, fold(n.Path(nil)))
}

func (n *node) child(name string) string {
	return filepath.Join(n.path(), fold(name))
}

func errno(err error) syscall.Errno { return fs.ToErrno(err) }

// entry answers for the backing entry at path, created or looked up as name.
func (n *node) entry(ctx context.Context, path string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return nil, errno(err)
	}
	out.Attr.FromStat(&st)
	child := &node{backing: n.backing}
	return n.NewInode(ctx, child, fs.StableAttr{Mode: st.Mode, Ino: st.Ino}), 0
}

func keepName(path, name string) {
	givenNames.Lock()
	defer givenNames.Unlock()
	givenNames.byPath[path] = name
}

func givenName(path string) (string, bool) {
	givenNames.Lock()
	defer givenNames.Unlock()
	name, ok := givenNames.byPath[path]
	return name, ok
}

// moveNames re-keys the names kept for `from` and everything below it.
func moveNames(from, to string) {
	givenNames.Lock()
	defer givenNames.Unlock()
	for path, name := range givenNames.byPath {
		if path == from || strings.HasPrefix(path, from+"/") {
			delete(givenNames.byPath, path)
			givenNames.byPath[to+strings.TrimPrefix(path, from)] = name
		}
	}
}

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return n.entry(ctx, n.child(name), out)
}

func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if getter, ok := f.(fs.FileGetattrer); ok {
		return getter.Getattr(ctx, out)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(n.path(), &st); err != nil {
		return errno(err)
	}
	out.FromStat(&st)
	return 0
}

func (n *node) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if setter, ok := f.(fs.FileSetattrer); ok {
		return setter.Setattr(ctx, in, out)
	}
	p := n.path()
	if mode, ok := in.GetMode(); ok {
		if err := syscall.Chmod(p, mode); err != nil {
			return errno(err)
		}
	}
	if size, ok := in.GetSize(); ok {
		if err := syscall.Truncate(p, int64(size)); err != nil {
			return errno(err)
		}
	}
	atime, aok := in.GetATime()
	mtime, mok := in.GetMTime()
	if aok || mok {
		times := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
		if aok {
			times[0] = unix.NsecToTimespec(atime.UnixNano())
		}
		if mok {
			times[1] = unix.NsecToTimespec(mtime.UnixNano())
		}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, times, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return errno(err)
		}
	}
	return n.Getattr(ctx, nil, out)
}

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fd, err := syscall.Open(n.path(), int(flags)&^syscall.O_APPEND, 0)
	if err != nil {
		return nil, 0, errno(err)
	}
	return fs.NewLoopbackFile(fd), 0, 0
}

func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	p := n.child(name)
	fd, err := syscall.Open(p, int(flags)|syscall.O_CREAT, mode)
	if err != nil {
		return nil, nil, 0, errno(err)
	}
	if _, known := givenName(p); !known {
		keepName(p, name)
	}
	inode, e := n.entry(ctx, p, out)
	if e != 0 {
		syscall.Close(fd)
		return nil, nil, 0, e
	}
	return inode, fs.NewLoopbackFile(fd), 0, 0
}

func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	p := n.child(name)
	if err := syscall.Mkdir(p, mode); err != nil {
		return nil, errno(err)
	}
	keepName(p, name)
	return n.entry(ctx, p, out)
}

func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	p := n.child(name)
	if err := syscall.Symlink(target, p); err != nil {
		return nil, errno(err)
	}
	keepName(p, name)
	return n.entry(ctx, p, out)
}

func (n *node) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	target, err := os.Readlink(n.path())
	if err != nil {
		return nil, errno(err)
	}
	return []byte(target), 0
}

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	return removed(n.child(name), syscall.Unlink)
}

func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	return removed(n.child(name), syscall.Rmdir)
}

func removed(path string, remove func(string) error) syscall.Errno {
	if err := remove(path); err != nil {
		return errno(err)
	}
	givenNames.Lock()
	defer givenNames.Unlock()
	delete(givenNames.byPath, path)
	return 0
}

func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	from, to := n.child(name), newParent.(*node).child(newName)
	if err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, uint(flags)); err != nil {
		return errno(err)
	}
	moveNames(from, to)
	// As APFS does, the entry takes the case of the name it was renamed to.
	keepName(to, newName)
	return 0
}

func (n *node) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	entries, err := os.ReadDir(n.path())
	if err != nil {
		return nil, errno(err)
	}
	list := make([]fuse.DirEntry, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		if given, ok := givenName(filepath.Join(n.path(), name)); ok {
			name = given
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		st := info.Sys().(*syscall.Stat_t)
		list = append(list, fuse.DirEntry{Name: name, Mode: st.Mode, Ino: st.Ino})
	}
	return fs.NewListDirStream(list), 0
}

func (n *node) Fsync(ctx context.Context, f fs.FileHandle, flags uint32) syscall.Errno {
	if syncer, ok := f.(fs.FileFsyncer); ok {
		return syncer.Fsync(ctx, flags)
	}
	fd, err := syscall.Open(n.path(), syscall.O_RDONLY, 0)
	if err != nil {
		return errno(err)
	}
	defer syscall.Close(fd)
	return errno(syscall.Fsync(fd))
}

func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	var st syscall.Statfs_t
	if err := syscall.Statfs(n.backing, &st); err != nil {
		return errno(err)
	}
	out.FromStatfsT(&st)
	return 0
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: casefold-fs BACKING MOUNTPOINT")
		os.Exit(2)
	}
	backing, err := filepath.Abs(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Nothing cached in the kernel: a name looked up in one case must not answer for another
	// from a cached (or cached missing) entry.
	none := time.Duration(0)
	server, err := fs.Mount(os.Args[2], &node{backing: backing}, &fs.Options{
		EntryTimeout:    &none,
		AttrTimeout:     &none,
		NegativeTimeout: &none,
		MountOptions:    fuse.MountOptions{FsName: "casefold", Name: "casefold"},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("mounted")
	server.Wait()
}
