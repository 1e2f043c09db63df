package data

import (
	"syscall"
	"unsafe"
)

// adviseHugePages asks Linux to back x with transparent huge pages (2 MB),
// as numpy does for its large arrays. The first write to a fresh 4 KB page
// costs a page fault; a split of full Fashion-MNIST is 185 MB (CIFAR-10:
// 600 MB), so with 4 KB pages about a third of a load's time went to faults.
// It is advice: with THP disabled or on error nothing changes.
func adviseHugePages(x []float32) {
	const page = 4096
	if len(x)*4 < 4<<20 { // not worth a system call below 4 MB
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), len(x)*4)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	head := int((page - start%page) % page)       // bytes before the first whole page
	tail := int((start + uintptr(len(b))) % page) // bytes after the last one
	b = b[head : len(b)-tail]
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE)
}
