package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

// Every field of every record is compared: a field added to a record (a new
// column) must make the conformance suite check it, without anyone having
// to remember to add it to a hand-written list.
func TestRecordDiffs_NoFieldGoesUnchecked(t *testing.T) {
	check := func(name string, zero any, diff func(got, want any) string) {
		typ := reflect.TypeOf(zero)
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			changed := reflect.New(typ).Elem()
			if !setNonZero(changed.Field(i)) {
				t.Errorf("%s.%s: the test cannot give a %s a value; teach setNonZero", name, f.Name, f.Type)
				continue
			}
			if d := diff(changed.Interface(), zero); d == "" {
				t.Errorf("%s.%s differs but the diff reports nothing: the field goes unchecked", name, f.Name)
			}
		}
	}
	check("GoogleAccount", store.GoogleAccount{}, func(g, w any) string { return accountDiff(g.(store.GoogleAccount), w.(store.GoogleAccount)) })
	check("AuthTransaction", store.AuthTransaction{}, func(g, w any) string {
		return authTransactionDiff(g.(store.AuthTransaction), w.(store.AuthTransaction))
	})
	check("SessionBinding", store.SessionBinding{}, func(g, w any) string { return bindingDiff(g.(store.SessionBinding), w.(store.SessionBinding)) })
	check("Client", store.Client{}, func(g, w any) string { return clientDiff(g.(store.Client), w.(store.Client)) })
	check("AuthCode", store.AuthCode{}, func(g, w any) string { return authCodeDiff(g.(store.AuthCode), w.(store.AuthCode)) })
	check("Token", store.Token{}, func(g, w any) string { return tokenDiff(g.(store.Token), w.(store.Token)) })
}

// setNonZero gives v a value other than its zero value.
func setNonZero(v reflect.Value) bool {
	if v.Type() == reflect.TypeOf(time.Time{}) {
		v.Set(reflect.ValueOf(at))
		return true
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		if !setNonZero(s.Index(0)) {
			return false
		}
		v.Set(s)
	default:
		return false
	}
	return true
}
