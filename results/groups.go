package results

// RenumberGroups gives the trials an EnsureSweep adds their groups: their
// Group fields are labels, and the trials that share a label form one new
// group, numbered after the sweep's existing groups (the largest of which
// is last) in the order the labels first appear. Group 0 stays 0 (no
// group). Existing groups never change, so extending a sweep only ever
// makes new groups.
func RenumberGroups(added []Trial, last int) {
	num := map[int]int{}
	for i := range added {
		l := added[i].Group
		if l == 0 {
			continue
		}
		n, ok := num[l]
		if !ok {
			last++
			n = last
			num[l] = n
		}
		added[i].Group = n
	}
}

// LastGroup returns the largest group number of ts (0 when none has one).
func LastGroup(ts []Trial) int {
	m := 0
	for _, t := range ts {
		m = max(m, t.Group)
	}
	return m
}
