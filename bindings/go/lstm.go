package raftns

import "math"

// State is one node's carried LSTM state, float64 like the reference (ARTIFACT.md §5).
type State struct {
	H, C [Units]float64
}

// Reset zeroes the state (a node's first observation).
func (s *State) Reset() { *s = State{} }

func (s *State) finite() bool {
	for u := 0; u < Units; u++ {
		if math.IsNaN(s.H[u]) || math.IsInf(s.H[u], 0) || math.IsNaN(s.C[u]) || math.IsInf(s.C[u], 0) {
			return false
		}
	}
	return true
}

// Step advances s by one tick of normalized features z and returns (q, ℓ): the ln-ms gap quantile and the
// leader-lost logit. Sums run in float64 over the float32 weights; each product is rounded separately
// (float64(...) stops the compiler from fusing a multiply-add), as in the reference.
func (p *Params) Step(s *State, z [Features]float32) (q, logit float64) {
	var a [Gates]float64
	for j := 0; j < Gates; j++ {
		v := float64(p.Bias[j])
		for i := 0; i < Features; i++ {
			v += float64(float64(z[i]) * float64(p.Kernel[i*Gates+j]))
		}
		for k := 0; k < Units; k++ {
			v += float64(s.H[k] * float64(p.RecurrentKernel[k*Gates+j]))
		}
		a[j] = v
	}
	for u := 0; u < Units; u++ {
		ig := sigmoid(a[u])
		fg := sigmoid(a[Units+u])
		gg := math.Tanh(a[2*Units+u])
		og := sigmoid(a[3*Units+u])
		s.C[u] = float64(fg*s.C[u]) + float64(ig*gg)
		s.H[u] = og * math.Tanh(s.C[u])
	}
	q, logit = float64(p.HeadBias[0]), float64(p.HeadBias[1])
	for k := 0; k < Units; k++ {
		q += float64(s.H[k] * float64(p.HeadKernel[k*2]))
		logit += float64(s.H[k] * float64(p.HeadKernel[k*2+1]))
	}
	return q, logit
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
