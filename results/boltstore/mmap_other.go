//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package boltstore

import "os"

// mapFile does not map files here: walkPages reads them.
func mapFile(f *os.File, size int64) (data []byte, unmap func()) { return nil, func() {} }

// fileID would identify a file; here every file is the same one, so a
// Store walks the pages of its file once.
type fileID struct{}

func fileIdentity(fi os.FileInfo) fileID { return fileID{} }
