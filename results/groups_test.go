package results

import (
	"slices"
	"testing"
)

func TestRenumberGroups(t *testing.T) {
	ts := []Trial{{Group: 7}, {Group: 7}, {Group: 0}, {Group: 3}, {Group: 7}, {Group: 3}, {Group: 9}}
	RenumberGroups(ts, 4)
	var got []int
	for _, t := range ts {
		got = append(got, t.Group)
	}
	if want := []int{5, 5, 0, 6, 5, 6, 7}; !slices.Equal(got, want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
	if g := LastGroup(ts); g != 7 {
		t.Fatalf("LastGroup = %d, want 7", g)
	}
	if g := LastGroup(nil); g != 0 {
		t.Fatalf("LastGroup(nil) = %d", g)
	}
}
