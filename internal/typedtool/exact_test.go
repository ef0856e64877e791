package typedtool

import (
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

// Types Exact accepts, beside drivemcp's tool outputs: what could go
// wrong between encoding/json and the inferred schema.
type (
	exactInner struct {
		When  time.Time  `json:"when"`
		Maybe *time.Time `json:"maybe,omitempty"`
		Small int8       `json:"small"`
		Tiny  uint8      `json:"tiny"`
		Big   uint64     `json:"big"`
	}
	exactEmbedded struct {
		Promoted string `json:"promoted"`
		Omitted  int    `json:"omitted,omitzero"`
	}
	exactAll struct {
		exactEmbedded
		//lint:ignore SA5008 encoding/json names this field "-"; the adapter must agree
		Dash    string `json:"-,"`
		Skipped func() `json:"-"`
		//lint:ignore U1000 an unexported field is never encoded; the adapter must agree
		hidden   chan int
		Any      any          `json:"any"`
		Float    float64      `json:"float,omitempty"`
		List     []exactInner `json:"list"`
		Grid     [2][]string  `json:"grid"`
		Ptr      *exactInner  `json:"ptr,omitempty"`
		Untagged bool
	}
)

// outputType is a Go type and the schema Add infers for it.
type outputType struct {
	typ    reflect.Type
	schema func() (toolSchema, error)
}

func outputTypeOf[T any]() outputType {
	return outputType{reflect.TypeFor[T](), func() (toolSchema, error) {
		var field any
		return newToolSchema[T](&field)
	}}
}

// What Exact promises: random values of the types it accepts, once
// encoded, fit the schema Add infers for them.
func TestSchemaExact_RandomValuesFitTheSchema(t *testing.T) {
	// drivemcp's own tool outputs are held to Exact in internal/mcpserver
	// (TestSchemaExact_EveryToolOutput); exactAll has every construct
	// Exact accepts.
	types := map[string]outputType{"exactAll": outputTypeOf[exactAll](), "*exactAll": outputTypeOf[*exactAll]()}
	r := rand.New(rand.NewPCG(1, 2))
	for name, out := range types {
		if !Exact(out.typ) {
			t.Fatalf("%s: Exact refuses %v", name, out.typ)
		}
		ts, err := out.schema()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i := range 300 {
			v := reflect.New(out.typ).Elem()
			if i > 0 { // the first is the zero value
				fill(r, v)
			}
			if v.Kind() == reflect.Pointer && v.IsNil() {
				continue // Add sends the zero value in its place
			}
			data, err := json.Marshal(fillSlices(v.Interface())) // as Add sends it
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if _, err := ts.check(data, false); err != nil {
				t.Fatalf("%s: %s does not fit the schema: %v", name, data, err)
			}
		}
	}
}

// Types that encoding/json encodes otherwise than their inferred schema
// says, each with a value that shows it; Exact must refuse them.
func TestSchemaExact_RefusesWhatMayNotFit(t *testing.T) {
	type (
		withMap struct{ M map[string]int }
		withPtr struct {
			P *int `json:"p"`
		}
		withNumber struct{ N json.Number }
		badTag     struct {
			//lint:ignore SA5008 an invalid tag name: encoding/json falls back to the field name
			A int `json:"it's"`
		}
		withBytes  struct{ B []byte }
		withRaw    struct{ R json.RawMessage }
		withText   struct{ IP netip.Addr }
		withString struct {
			N int `json:"n,string"`
		}
		embeddedPtr    struct{ *exactEmbedded }
		embeddedTagged struct {
			exactEmbedded `json:"inner"`
		}
		embeddedSlice struct{ Names }
		collideA      struct {
			X string // named X, as B is
		}
		collideB struct {
			B string `json:"X"`
		}
		collide struct {
			collideA
			collideB
		}
		hideA struct {
			X int `json:"a"`
		}
		hideB struct {
			X int `json:"b"`
		}
		hidden struct {
			hideA
			hideB
		}
	)
	cases := []struct {
		name string
		out  outputType
		val  any
		fits bool // refused out of caution: this value does fit
	}{
		{"[]byte is base64 text", outputTypeOf[withBytes](), withBytes{B: []byte("hi")}, false},
		{"a MarshalJSON method", outputTypeOf[withRaw](), withRaw{R: json.RawMessage(`"text"`)}, false},
		{"a MarshalText method", outputTypeOf[withText](), withText{IP: netip.MustParseAddr("::1")}, false},
		{"a ,string option", outputTypeOf[withString](), withString{N: 1}, false},
		{"a nil embedded pointer drops its fields", outputTypeOf[embeddedPtr](), embeddedPtr{}, false},
		{"a tagged embedded struct is one field", outputTypeOf[embeddedTagged](), embeddedTagged{}, false},
		{"an embedded slice is one field", outputTypeOf[embeddedSlice](), embeddedSlice{}, false},
		{"fields that hide each other by their Go name", outputTypeOf[hidden](), hidden{}, false},
		{"a nil map is null, the schema says object", outputTypeOf[withMap](), withMap{}, false},
		{"json.Number is a bare number, the schema says string", outputTypeOf[withNumber](), withNumber{N: "5"}, false},
		{"a tag name encoding/json ignores", outputTypeOf[badTag](), badTag{}, false},
		{"two fields of one JSON name", outputTypeOf[collide](), collide{}, true},
		{"an output that is not an object", outputTypeOf[[]string](), []string{"a"}, true},
		{"a nil pointer that is not left out is null", outputTypeOf[withPtr](), withPtr{}, false},
	}
	for _, c := range cases {
		if Exact(c.out.typ) {
			t.Errorf("%s: Exact accepts %v", c.name, c.out.typ)
		}
		ts, err := c.out.schema()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		data, err := json.Marshal(c.val)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if _, err := ts.check(data, false); (err == nil) != c.fits {
			t.Errorf("%s: %s: validation says %v, want fits=%v", c.name, data, err, c.fits)
		}
	}
}

// Names is a slice type to embed.
type Names []string

// fill sets v, which must be settable, to a random value: zero a quarter
// of the time, so that omitempty and omitzero fields are left out too.
func fill(r *rand.Rand, v reflect.Value) {
	if r.IntN(4) == 0 {
		v.SetZero()
		return
	}
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Unix(r.Int64N(1<<35)-1<<34, r.Int64N(1e9)).In(time.FixedZone("", r.IntN(48)*1800-12*3600))))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(r.Uint64())) // truncated to the type's size
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(r.Uint64())
	case reflect.Float32, reflect.Float64:
		v.SetFloat(r.NormFloat64() * 1e6)
	case reflect.String:
		v.SetString([]string{"x", "Ünïcødé ✓", `"quoted" <&>`, "\n	", "1"}[r.IntN(5)])
	case reflect.Interface:
		v.Set(reflect.ValueOf([]any{"s", 1.5, true, []any{1, "a"}, map[string]any{"k": nil}}[r.IntN(5)]))
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(r, p.Elem())
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), r.IntN(4), 4)
		for i := range s.Len() {
			fill(r, s.Index(i))
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			fill(r, v.Index(i))
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range r.IntN(4) {
			k := reflect.New(v.Type().Key()).Elem()
			fill(r, k)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(r, e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Field(i)
			sf := v.Type().Field(i)
			if sf.Type.Kind() == reflect.Func || sf.Type.Kind() == reflect.Chan {
				continue
			}
			if !f.CanSet() { // an unexported embedded struct, whose fields encoding/json reads
				f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
			}
			fill(r, f)
		}
	}
}
