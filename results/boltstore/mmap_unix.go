//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package boltstore

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// mapFile maps the first size bytes of f read-only, for walkPages to read
// pages without a system call each; unmap releases the mapping. It returns
// a nil slice where mapping fails, and the walk reads the file instead.
// Touching the mapping past the file's end faults: the caller reads only
// pages that vetMeta found within size, and runs with SetPanicOnFault.
func mapFile(f *os.File, size int64) (data []byte, unmap func()) {
	if size <= 0 || int64(int(size)) != size {
		return nil, func() {}
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, func() {}
	}
	return data, func() { _ = unix.Munmap(data) }
}

// fileID identifies a file: its device and inode.
type fileID struct{ dev, ino uint64 }

func fileIdentity(fi os.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{uint64(st.Dev), uint64(st.Ino)}
	}
	return fileID{}
}
