/**
 * Hand-drawn SVG for the demo: the cluster diagram and small time-series charts. Pure string builders (no
 * DOM access, no network, no chart library): the shell sets innerHTML of an <svg> it sized. Only SVG
 * presentation attributes are used, never style attributes, so the page's CSP can forbid inline styles.
 */
import type { ClusterSnapshot } from '../sim/index.js';
import type { ElectionEvent, Sample } from './world.js';

/** One colour per node id n1…n9 (distinguishable, also on the dark background). */
export const NODE_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f'];
export const ROLE_COLORS: Record<string, string> = { follower: '#8aa0b8', 'pre-candidate': '#e8b14a', candidate: '#f28e2b', leader: '#3fb950' };
const MSG_COLORS: Record<string, string> = { App: '#8aa0b8', AppResp: '#5b6b7c', PreVote: '#e8b14a', PreVoteResp: '#e8b14a', Vote: '#f28e2b', VoteResp: '#f28e2b' };
export const CAUSE_COLORS: Record<string, string> = { spurious: '#e15759', 'leader down': '#9aa5b1', 'leader cut off': '#b07aa1', startup: '#5b6b7c', 'lost race': '#c9b458' };

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function nodeColor(id: string): string {
  return NODE_COLORS[(Number(id.slice(1)) - 1) % NODE_COLORS.length]!;
}

/**
 * The cluster: nodes on a circle with role, term and timeout, the leader ringed, crashed nodes crossed,
 * isolated nodes dashed, and messages in flight as dots moving along their link.
 */
export function clusterSvg(snap: ClusterSnapshot, widthPx: number, heightPx: number, isolated: ReadonlySet<string>): string {
  const n = snap.nodes.length;
  const cx = widthPx / 2;
  const cy = heightPx / 2;
  const r = Math.min(widthPx, heightPx) / 2 - 38;
  const pos = new Map<string, [number, number]>();
  snap.nodes.forEach((node, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / n;
    pos.set(node.id, [cx + r * Math.cos(a), cy + r * Math.sin(a)]);
  });
  const out: string[] = [];
  // Links first (underneath), then messages, then nodes.
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const [x1, y1] = pos.get(snap.nodes[i]!.id)!;
      const [x2, y2] = pos.get(snap.nodes[j]!.id)!;
      const cut = isolated.has(snap.nodes[i]!.id) || isolated.has(snap.nodes[j]!.id);
      out.push(`<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="${cut ? '#e1575966' : '#ffffff14'}" stroke-dasharray="${cut ? '4 4' : 'none'}"/>`);
    }
  }
  let drawn = 0;
  for (const m of snap.messagesInFlight) {
    if (drawn >= 150) break;
    const a = pos.get(m.from);
    const b = pos.get(m.to);
    if (!a || !b) continue; // client traffic is not drawn
    const span = m.deliverMs - m.sentMs;
    const f = span > 0 ? Math.min(1, Math.max(0, (snap.nowMs - m.sentMs) / span)) : 1;
    const x = a[0] + (b[0] - a[0]) * f;
    const y = a[1] + (b[1] - a[1]) * f;
    out.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${m.type.startsWith('App') ? 2.5 : 3.5}" fill="${MSG_COLORS[m.type] ?? '#fff'}"/>`);
    drawn++;
  }
  for (const node of snap.nodes) {
    const [x, y] = pos.get(node.id)!;
    const color = node.up ? ROLE_COLORS[node.role] ?? '#888' : '#444c56';
    const leader = node.id === snap.leaderId;
    if (leader) out.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="27" fill="none" stroke="#3fb950" stroke-width="3"/>`);
    out.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="21" fill="${color}" stroke="${nodeColor(node.id)}" stroke-width="3" stroke-dasharray="${isolated.has(node.id) ? '5 3' : 'none'}"/>`);
    out.push(`<text x="${x.toFixed(1)}" y="${(y - 3).toFixed(1)}" text-anchor="middle" class="node-id">${esc(node.id)}</text>`);
    out.push(`<text x="${x.toFixed(1)}" y="${(y + 10).toFixed(1)}" text-anchor="middle" class="node-term">T${node.term}</text>`);
    if (!node.up) {
      out.push(`<path d="M${x - 12} ${y - 12} L${x + 12} ${y + 12} M${x + 12} ${y - 12} L${x - 12} ${y + 12}" stroke="#e15759" stroke-width="4"/>`);
    }
    const below = y > cy ? 36 : -30;
    const role = !node.up ? 'crashed' : node.paused ? `${node.role} (stalled)` : node.role;
    const timeout = node.up && node.role === 'follower' ? `${Math.round(node.electionTimeoutMs)} ms` : '';
    // Narrow screens with many nodes: a follower's label is just its timeout, so labels do not overlap.
    const compact = (2 * Math.PI * r) / n < 110;
    const label = timeout ? (compact ? timeout : `${role} · ${timeout}`) : role;
    out.push(`<text x="${x.toFixed(1)}" y="${(y + below).toFixed(1)}" text-anchor="middle" class="node-role">${esc(label)}</text>`);
    if (node.cpuLoadPct > 0) out.push(`<text x="${(x + 24).toFixed(1)}" y="${(y - 16).toFixed(1)}" class="node-cpu">CPU ${Math.round(node.cpuLoadPct)}%</text>`);
  }
  return out.join('');
}

export interface Series {
  /** One value per sample (NaN = gap). */
  values: ArrayLike<number>;
  color: string;
  label: string;
  dashed?: boolean;
}

export interface ChartOptions {
  widthPx: number;
  heightPx: number;
  /** Sample times (ms), same length as every series. */
  timesMs: ArrayLike<number>;
  /** Visible window [t0, t1] (ms). */
  t0: number;
  t1: number;
  yMin: number;
  yMax: number;
  log?: boolean;
  yTicks: number[];
  yFormat?: (v: number) => string;
  series: Series[];
  /** Vertical markers (elections). */
  markers?: Array<{ tMs: number; color: string }>;
}

const PAD = { left: 46, right: 16, top: 6, bottom: 18 };

/** A line chart: series over time, y linear or log, gaps where a value is NaN. */
export function lineChart(o: ChartOptions): string {
  const w = o.widthPx - PAD.left - PAD.right;
  const h = o.heightPx - PAD.top - PAD.bottom;
  const tx = (t: number): number => PAD.left + ((t - o.t0) / Math.max(1, o.t1 - o.t0)) * w;
  const ty = o.log
    ? (v: number): number => PAD.top + h - ((Math.log(Math.max(v, o.yMin)) - Math.log(o.yMin)) / (Math.log(o.yMax) - Math.log(o.yMin))) * h
    : (v: number): number => PAD.top + h - ((v - o.yMin) / (o.yMax - o.yMin)) * h;
  const clampY = (y: number): number => Math.min(PAD.top + h, Math.max(PAD.top, y));
  const fmt = o.yFormat ?? ((v: number) => String(v));
  const out: string[] = [];
  for (const v of o.yTicks) {
    const y = ty(v).toFixed(1);
    out.push(`<line x1="${PAD.left}" x2="${PAD.left + w}" y1="${y}" y2="${y}" class="grid"/>`);
    out.push(`<text x="${PAD.left - 4}" y="${y}" text-anchor="end" dominant-baseline="middle" class="tick">${esc(fmt(v))}</text>`);
  }
  for (let s = Math.ceil(o.t0 / 5000) * 5000; s <= o.t1; s += 5000) {
    const x = tx(s).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${PAD.top}" y2="${PAD.top + h}" class="grid"/>`);
    out.push(`<text x="${x}" y="${o.heightPx - 4}" text-anchor="middle" class="tick">${(s / 1000).toFixed(0)} s</text>`);
  }
  for (const m of o.markers ?? []) {
    if (m.tMs < o.t0 || m.tMs > o.t1) continue;
    const x = tx(m.tMs).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${PAD.top}" y2="${PAD.top + h}" stroke="${m.color}" stroke-width="2" stroke-dasharray="3 2"/>`);
  }
  for (const s of o.series) {
    let d = '';
    let pen = false;
    for (let i = 0; i < o.timesMs.length; i++) {
      const t = o.timesMs[i]!;
      const v = s.values[i]!;
      if (t < o.t0 || !Number.isFinite(v)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${tx(t).toFixed(1)} ${clampY(ty(v)).toFixed(1)}`;
      pen = true;
    }
    if (d) out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="4 3"' : ''}><title>${esc(s.label)}</title></path>`);
  }
  return out.join('');
}

/** One row per rule category; a tick wherever the category changed some follower's timeout. */
export function ruleStrip(samples: readonly Sample[], rows: ReadonlyArray<{ label: string; bit: number; color: string }>, t0: number, t1: number, widthPx: number): string {
  const rowH = 16;
  const w = widthPx - 96 - PAD.right;
  const tx = (t: number): number => 96 + ((t - t0) / Math.max(1, t1 - t0)) * w;
  const out: string[] = [];
  rows.forEach((row, k) => {
    const y = 4 + k * rowH;
    out.push(`<text x="90" y="${y + rowH / 2}" text-anchor="end" dominant-baseline="middle" class="tick">${esc(row.label)}</text>`);
    out.push(`<line x1="96" x2="${96 + w}" y1="${y + rowH / 2}" y2="${y + rowH / 2}" class="grid"/>`);
    let count = 0;
    for (const s of samples) {
      if (s.tMs < t0 || (s.rulesFired & row.bit) === 0) continue;
      count++;
      out.push(`<rect x="${tx(s.tMs).toFixed(1)}" y="${y + 2}" width="3" height="${rowH - 4}" fill="${row.color}"/>`);
    }
    out.push(`<title>${esc(row.label)}: fired in ${count} of the visible samples</title>`);
  });
  return out.join('');
}

/** Elections on a time axis, coloured by cause (spurious = the leader was alive and reachable). */
export function electionStrip(events: readonly ElectionEvent[], t0: number, t1: number, widthPx: number): string {
  const w = widthPx - PAD.left - PAD.right;
  const tx = (t: number): number => PAD.left + ((t - t0) / Math.max(1, t1 - t0)) * w;
  const out: string[] = [`<line x1="${PAD.left}" x2="${PAD.left + w}" y1="14" y2="14" class="grid"/>`];
  for (const e of events) {
    if (e.tMs < t0) continue;
    const x = tx(e.tMs).toFixed(1);
    out.push(`<circle cx="${x}" cy="14" r="6" fill="${CAUSE_COLORS[e.cause] ?? '#fff'}"><title>${esc(`${(e.tMs / 1000).toFixed(2)} s: ${e.node} → term ${e.term} (${e.cause})`)}</title></circle>`);
  }
  return out.join('');
}
