package drive

import (
	"errors"
	"testing"
)

// The if_exists rule: new always creates, several same-named files stop
// every other mode, fail names the file, skip_unchanged skips only on an
// equal md5 (never for a file Drive keeps no md5 of).
func TestDecide_IfExistsRuleTouchesNothingWhenTheNameIsAmbiguous(t *testing.T) {
	one := []Item{{File: File{ID: "a", MD5: "11"}}}
	two := append(one, Item{File: File{ID: "b", MD5: "22"}})
	doc := []Item{{File: File{ID: "d"}}}
	cases := []struct {
		mode IfExists
		same []Item
		md5  string
		want Action
		err  error
	}{
		{IfExistsNew, two, "", ActionCreate, nil},
		{IfExistsUpdate, nil, "", ActionCreate, nil},
		{IfExistsUpdate, one, "", ActionUpdate, nil},
		{IfExistsUpdate, two, "", 0, ErrAmbiguousName},
		{IfExistsSkipUnchanged, one, "11", ActionSkip, nil},
		{IfExistsSkipUnchanged, one, "99", ActionUpdate, nil},
		{IfExistsSkipUnchanged, doc, "", ActionUpdate, nil},
		{IfExistsSkipUnchanged, two, "11", 0, ErrAmbiguousName},
		{IfExistsFail, one, "", 0, ErrExists},
		{IfExistsFail, nil, "", ActionCreate, nil},
	}
	for _, c := range cases {
		d, err := Decide(c.mode, "x", c.same, c.md5)
		if c.err != nil {
			var ee *ExistsError
			if !errors.Is(err, c.err) || !errors.As(err, &ee) || len(ee.Files) != len(c.same) {
				t.Errorf("%s with %d: %v, want %v naming them", c.mode, len(c.same), err, c.err)
			}
			continue
		}
		if err != nil || d.Action != c.want {
			t.Errorf("%s with %d (md5 %q): %v %v, want action %v", c.mode, len(c.same), c.md5, d.Action, err, c.want)
		}
	}
}
