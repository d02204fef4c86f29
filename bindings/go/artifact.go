// Package raftns is the Go runtime of raft-ns: it loads a raft-ns artifact (docs/ARTIFACT.md), runs the
// int8 or float LSTM one tick at a time with carried state, bounds every proposal with the safety rules
// (docs/RULES.md, the same JSON the TypeScript runtime reads) and serves an election timeout through
// Provider. Standard library only; written from docs/ARTIFACT.md and docs/RULES.md.
package raftns

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
)

// Architecture constants (ARTIFACT.md §1).
const (
	Units          = 64
	Features       = 4
	Gates          = 4 * Units
	Outputs        = 2
	ParameterCount = Features*Gates + Units*Gates + Gates + Units*Outputs + Outputs // 17,794
)

// Precision selects the float32 or the int8 (dequantized) weights.
type Precision string

const (
	Float32 Precision = "float32"
	Int8    Precision = "int8"
)

// Normalization is z = clamp((raw − Mean) / Std, −Clip, Clip).
type Normalization struct {
	Mean [Features]float64
	Std  [Features]float64
	Clip float64
}

// Params are the dense weights of one precision path, row-major [in, out]; column j of the LSTM tensors
// is gate j/64 (i, f, g, o) and unit j%64.
type Params struct {
	Kernel          [Features * Gates]float32
	RecurrentKernel [Units * Gates]float32
	Bias            [Gates]float32
	HeadKernel      [Units * Outputs]float32
	HeadBias        [Outputs]float32
}

// Artifact is a loaded, checked artifact; immutable, share it between nodes.
type Artifact struct {
	Name, Version string
	// TickMs is the tick length of the training traces: the model steps once per TickMs of the node's time
	// (docs/ARTIFACT.md §3.3). 0 when the manifest gives null or nothing.
	TickMs float64
	// HeartbeatIntervalMs is the leaders' heartbeat interval in the training traces (docs/ARTIFACT.md §3.3);
	// 0 when the manifest gives null or nothing (artifacts before the field existed).
	HeartbeatIntervalMs float64
	Tau                 float64 // τ of the quantile head (NaN if absent)
	Normalization       Normalization
	Float               *Params
	Int8                *Params // nil when the artifact has no int8 tensors
	WeightsSHA256       string
}

// Error is every refusal of the loader and the rules parser: Code is stable ("artifact.sha256", ...),
// the message names the file and the field and says what was expected.
type Error struct {
	Code string
	Msg  string
}

func (e *Error) Error() string { return "raftns: " + e.Msg }

func fail(code, format string, args ...interface{}) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// LoadDir reads <dir>/manifest.json and <dir>/weights.bin, checks them (FromBytes) and checks the SHA-256
// of every other file the manifest lists under "files".
func LoadDir(dir string) (*Artifact, error) {
	mPath := filepath.Join(dir, "manifest.json")
	wPath := filepath.Join(dir, "weights.bin")
	manifest, err := os.ReadFile(mPath)
	if err != nil {
		return nil, fail("artifact.missing", "%s: cannot read (%v)", mPath, err)
	}
	weights, err := os.ReadFile(wPath)
	if err != nil {
		return nil, fail("artifact.missing", "%s: cannot read (%v)", wPath, err)
	}
	a, err := fromBytes(manifest, weights, mPath, wPath)
	if err != nil {
		return nil, err
	}
	var m struct {
		Files map[string]string `json:"files"`
	}
	_ = json.Unmarshal(manifest, &m) // already parsed once; a non-object "files" was refused there
	names := make([]string, 0, len(m.Files))
	for n := range m.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fail("artifact.missing", "%s: listed in %s files but cannot be read (%v)", p, mPath, err)
		}
		if got := sha256Hex(b); got != m.Files[n] {
			return nil, fail("artifact.sha256", "%s: sha256 %s does not match %s files[%q]; the file was modified", p, got, mPath, n)
		}
	}
	return a, nil
}

// FromBytes parses and checks a manifest and the bytes of weights.bin (ARTIFACT.md §1).
func FromBytes(manifest, weights []byte) (*Artifact, error) {
	return fromBytes(manifest, weights, "manifest.json", "weights.bin")
}

type tensorEntry struct {
	Name       string  `json:"name"`
	Dtype      string  `json:"dtype"`
	Shape      []int   `json:"shape"`
	Offset     float64 `json:"offset"`
	ByteLength float64 `json:"byte_length"`
}

var hex64 = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

func fromBytes(manifest, weights []byte, mName, wName string) (*Artifact, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(manifest, &raw); err != nil {
		return nil, fail("artifact.json", "%s: not a JSON object (%v); expected the artifact manifest of docs/ARTIFACT.md", mName, err)
	}
	str := func(k string) (string, bool) {
		var s string
		if v, ok := raw[k]; ok && json.Unmarshal(v, &s) == nil {
			return s, true
		}
		return "", false
	}
	if f, _ := str("format"); f != "raft-ns-artifact" {
		return nil, fail("artifact.format", "%s: format %s, expected \"raft-ns-artifact\"", mName, jsonOf(raw["format"]))
	}
	var fv float64
	if json.Unmarshal(raw["format_version"], &fv) != nil || fv != 1 {
		return nil, fail("artifact.version", "%s: format_version %s, this runtime reads format_version 1", mName, jsonOf(raw["format_version"]))
	}
	var arch map[string]json.RawMessage
	if json.Unmarshal(raw["architecture"], &arch) != nil || arch == nil {
		return nil, fail("artifact.manifest", "%s: architecture missing", mName)
	}
	for _, want := range []struct {
		field string
		value interface{}
	}{{"kind", "lstm"}, {"units", float64(Units)}, {"features", float64(Features)}, {"gate_order", "ifgo"},
		{"recurrent_activation", "sigmoid"}, {"activation", "tanh"}, {"state", "carried"}} {
		var got interface{}
		_ = json.Unmarshal(arch[want.field], &got)
		if got != want.value {
			return nil, fail("artifact.architecture", "%s: architecture.%s is %s, this runtime implements %v", mName, want.field, jsonOf(arch[want.field]), want.value)
		}
	}
	var outputs []struct {
		Name string   `json:"name"`
		Tau  *float64 `json:"tau"`
	}
	if json.Unmarshal(arch["outputs"], &outputs) != nil || len(outputs) != Outputs {
		return nil, fail("artifact.architecture", "%s: architecture.outputs must list %d outputs", mName, Outputs)
	}
	if pc, ok := arch["parameter_count"]; ok {
		var n float64
		if json.Unmarshal(pc, &n) != nil || n != ParameterCount {
			return nil, fail("artifact.architecture", "%s: architecture.parameter_count is %s, this runtime implements %d", mName, jsonOf(pc), ParameterCount)
		}
	}
	var norm struct {
		Mean []float64 `json:"mean"`
		Std  []float64 `json:"std"`
		Clip *float64  `json:"clip"`
	}
	normOK := json.Unmarshal(raw["normalization"], &norm) == nil && len(norm.Mean) == Features && len(norm.Std) == Features && norm.Clip != nil && *norm.Clip > 0
	for i := 0; normOK && i < Features; i++ {
		normOK = !(norm.Std[i] <= 0) // JSON has no NaN or Infinity, so finite is given
	}
	if !normOK {
		return nil, fail("artifact.normalization", "%s: normalization needs mean[4], std[4] (all > 0) and clip > 0", mName)
	}
	if q, ok := raw["quantization"]; ok {
		var qz struct {
			Scheme    *string  `json:"scheme"`
			ZeroPoint *float64 `json:"zero_point"`
		}
		if json.Unmarshal(q, &qz) != nil || qz.Scheme == nil || *qz.Scheme != "int8-symmetric-per-output-channel" || qz.ZeroPoint == nil || *qz.ZeroPoint != 0 {
			return nil, fail("artifact.quantization", "%s: quantization %s, expected scheme \"int8-symmetric-per-output-channel\" with zero_point 0", mName, jsonOf(q))
		}
	}
	timing := map[string]float64{}
	for _, f := range []string{"tick_ms", "heartbeat_interval_ms"} {
		v, present := raw[f]
		if !present || string(v) == "null" {
			continue
		}
		var ms float64
		if json.Unmarshal(v, &ms) != nil || !(ms > 0 && ms <= 60000) {
			return nil, fail("artifact.timing", "%s: %s must be a number of ms in (0, 60000] or null", mName, f)
		}
		timing[f] = ms
	}
	var tensorsRaw []json.RawMessage
	if json.Unmarshal(raw["tensors"], &tensorsRaw) != nil {
		return nil, fail("artifact.manifest", "%s: tensors must be an array", mName)
	}
	tensors := make([]tensorEntry, len(tensorsRaw))
	for i, t := range tensorsRaw {
		e := &tensors[i]
		ok := json.Unmarshal(t, e) == nil && e.Name != "" && e.Shape != nil && isIndex(e.Offset) && isIndex(e.ByteLength)
		for _, d := range e.Shape {
			ok = ok && d > 0
		}
		if !ok {
			return nil, fail("artifact.tensor", "%s tensors[%d]: expected {name, dtype, shape: positive integers, offset ≥ 0, byte_length ≥ 0}", mName, i)
		}
	}
	sha, _ := str("weights_sha256")
	if !hex64.MatchString(sha) {
		return nil, fail("artifact.manifest", "%s: weights_sha256 must be 64 hex digits", mName)
	}
	var wlen float64
	if json.Unmarshal(raw["weights_byte_length"], &wlen) != nil || wlen != math.Trunc(wlen) {
		return nil, fail("artifact.manifest", "%s: weights_byte_length must be an integer", mName)
	}
	if v, ok := raw["files"]; ok {
		var files map[string]string
		if json.Unmarshal(v, &files) != nil {
			return nil, fail("artifact.manifest", "%s: files must map file names to sha256 hex", mName)
		}
	}

	if float64(len(weights)) != wlen {
		return nil, fail("artifact.truncated", "%s: %d bytes, manifest %s says weights_byte_length %.0f", wName, len(weights), mName, wlen)
	}
	digest := sha256Hex(weights)
	if digest != lower(sha) {
		return nil, fail("artifact.sha256", "%s: sha256 %s does not match %s weights_sha256 %s; the weights were modified or belong to another artifact", wName, digest, mName, sha)
	}
	byName := map[string]*tensorEntry{}
	for i := range tensors {
		t := &tensors[i]
		where := fmt.Sprintf("%s tensors[%d] (%s)", mName, i, t.Name)
		if byName[t.Name] != nil {
			return nil, fail("artifact.tensor", "%s: duplicate tensor name", where)
		}
		width := 0
		switch t.Dtype {
		case "float32":
			width = 4
		case "int8":
			width = 1
		default:
			return nil, fail("artifact.tensor", "%s: dtype %q, expected float32 or int8", where, t.Dtype)
		}
		elems := 1
		for _, d := range t.Shape {
			elems *= d
		}
		if int(t.ByteLength) != elems*width {
			return nil, fail("artifact.tensor", "%s: byte_length %.0f, expected %d for %s %v", where, t.ByteLength, elems*width, t.Dtype, t.Shape)
		}
		if int(t.Offset)%8 != 0 {
			return nil, fail("artifact.tensor", "%s: offset %.0f is not 8-byte aligned", where, t.Offset)
		}
		if t.Offset+t.ByteLength > float64(len(weights)) {
			return nil, fail("artifact.bounds", "%s: bytes [%.0f, %.0f) run past the end of %s (%d bytes)", where, t.Offset, t.Offset+t.ByteLength, wName, len(weights))
		}
		byName[t.Name] = t
	}
	need := func(name, dtype string, shape ...int) (*tensorEntry, error) {
		t := byName[name]
		if t == nil {
			return nil, fail("artifact.tensor", "%s: tensor %q (%s %v) is missing from the tensor table", mName, name, dtype, shape)
		}
		same := t.Dtype == dtype && len(t.Shape) == len(shape)
		for i := 0; same && i < len(shape); i++ {
			same = t.Shape[i] == shape[i]
		}
		if !same {
			return nil, fail("artifact.tensor", "%s: tensor %q is %s %v, expected %s %v", mName, name, t.Dtype, t.Shape, dtype, shape)
		}
		return t, nil
	}
	f32 := func(dst []float32, name string, shape ...int) error {
		t, err := need(name, "float32", shape...)
		if err != nil {
			return err
		}
		b := weights[int(t.Offset):]
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return nil
	}
	fp := &Params{}
	for _, step := range []error{
		f32(fp.Kernel[:], "lstm/kernel", Features, Gates),
		f32(fp.RecurrentKernel[:], "lstm/recurrent_kernel", Units, Gates),
		f32(fp.Bias[:], "lstm/bias", Gates),
		f32(fp.HeadKernel[:], "head/kernel", Units, Outputs),
		f32(fp.HeadBias[:], "head/bias", Outputs),
	} {
		if step != nil {
			return nil, step
		}
	}
	var ip *Params
	if byName["lstm/kernel.q"] != nil {
		ip = &Params{Bias: fp.Bias, HeadBias: fp.HeadBias}
		deq := func(dst []float32, name string, rows, cols int) error {
			q, err := need(name+".q", "int8", rows, cols)
			if err != nil {
				return err
			}
			scale := make([]float32, cols)
			if err := f32(scale, name+".scale", cols); err != nil {
				return err
			}
			codes := weights[int(q.Offset):]
			for r := 0; r < rows; r++ {
				for c := 0; c < cols; c++ {
					// fround(q · scale): the exact product rounded once to binary32 (a float64 product of an
					// int8 and a float32 is exact, so the conversion is the only rounding).
					dst[r*cols+c] = float32(float64(int8(codes[r*cols+c])) * float64(scale[c]))
				}
			}
			return nil
		}
		for _, step := range []error{
			deq(ip.Kernel[:], "lstm/kernel", Features, Gates),
			deq(ip.RecurrentKernel[:], "lstm/recurrent_kernel", Units, Gates),
			deq(ip.HeadKernel[:], "head/kernel", Units, Outputs),
		} {
			if step != nil {
				return nil, step
			}
		}
	}
	for _, p := range []struct {
		path   string
		params *Params
	}{{"float32", fp}, {"int8", ip}} {
		if p.params == nil {
			continue
		}
		for _, arr := range []struct {
			name string
			v    []float32
		}{{"kernel", p.params.Kernel[:]}, {"recurrentKernel", p.params.RecurrentKernel[:]}, {"bias", p.params.Bias[:]},
			{"headKernel", p.params.HeadKernel[:]}, {"headBias", p.params.HeadBias[:]}} {
			for i, v := range arr.v {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return nil, fail("artifact.nonfinite", "%s: %s tensor %s element %d is not finite; expected finite weights", wName, p.path, arr.name, i)
				}
			}
		}
	}
	a := &Artifact{Float: fp, Int8: ip, WeightsSHA256: digest, Tau: math.NaN()}
	a.Name, _ = str("name")
	a.Version, _ = str("version")
	a.TickMs, a.HeartbeatIntervalMs = timing["tick_ms"], timing["heartbeat_interval_ms"]
	if outputs[0].Tau != nil {
		a.Tau = *outputs[0].Tau
	}
	copy(a.Normalization.Mean[:], norm.Mean)
	copy(a.Normalization.Std[:], norm.Std)
	a.Normalization.Clip = *norm.Clip
	return a, nil
}

// Params of one precision path, or an error when the artifact has none.
func (a *Artifact) Params(p Precision) (*Params, error) {
	switch {
	case p == Float32:
		return a.Float, nil
	case p == Int8 && a.Int8 != nil:
		return a.Int8, nil
	}
	return nil, fail("artifact.precision", "artifact %s@%s has no %s tensors", a.Name, a.Version, p)
}

func isIndex(v float64) bool { return v >= 0 && v == math.Trunc(v) && v < 1<<40 }

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func jsonOf(v json.RawMessage) string {
	if v == nil {
		return "undefined"
	}
	return string(v)
}
