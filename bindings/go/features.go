package raftns

import "math"

// Sample is one tick's raw signals (ARTIFACT.md §3, §4). LeaderID "" means no known leader.
type Sample struct {
	NowMs             float64
	HeartbeatReceived bool
	Term              uint64
	LeaderID          string
	// HeartbeatLatencyMs is the echoed heartbeat round trip (ARTIFACT.md §3); HasLatency false = none.
	HeartbeatLatencyMs float64
	HasLatency         bool
	LogReplicationGap  float64
	RPCRetries         float64
	CPUIdlePct         float64
}

// FeatureState carries the last latency and the silence clock of one node (ARTIFACT.md §4).
type FeatureState struct {
	lastLatencyMs float64
	seenLatency   bool
	started       bool
	silenceFromMs float64
	term          uint64
	leaderID      string
}

// Reset forgets the latency and the silence clock (as at a node's first observation).
func (f *FeatureState) Reset() { *f = FeatureState{} }

// Raw returns the four raw features, each rounded to binary32 as the reference stores them.
func (f *FeatureState) Raw(s *Sample) [Features]float32 {
	if s.HasLatency {
		f.lastLatencyMs = s.HeartbeatLatencyMs
		f.seenLatency = true
	}
	// The clock restarts on a heartbeat, on a new (leader, term) and at the first observation.
	if s.HeartbeatReceived || !f.started || s.Term != f.term || s.LeaderID != f.leaderID {
		f.started = true
		f.silenceFromMs = s.NowMs
		f.term = s.Term
		f.leaderID = s.LeaderID
	}
	silenceMs := 0.0
	if s.NowMs > f.silenceFromMs {
		silenceMs = s.NowMs - f.silenceFromMs
	}
	latencyMs := 0.0
	if f.seenLatency {
		latencyMs = f.lastLatencyMs
	}
	if silenceMs > latencyMs {
		latencyMs = silenceMs
	}
	return [Features]float32{
		float32(math.Log1p(latencyMs)),
		float32(math.Log1p(s.LogReplicationGap)),
		float32(math.Log1p(s.RPCRetries)),
		float32(s.CPUIdlePct / 100),
	}
}

// Normalize maps raw binary32 features to z = clamp((raw − mean)/std, −clip, clip), computed in float64
// and rounded once more to binary32.
func (n *Normalization) Normalize(raw [Features]float32) [Features]float32 {
	var z [Features]float32
	for i := range raw {
		v := (float64(raw[i]) - n.Mean[i]) / n.Std[i]
		if v < -n.Clip {
			v = -n.Clip
		} else if v > n.Clip {
			v = n.Clip
		}
		z[i] = float32(v)
	}
	return z
}
