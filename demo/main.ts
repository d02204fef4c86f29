/**
 * The demo page's shell: loads the model the server offers, builds the lanes' DOM, wires the controls to
 * DemoWorld and draws. Wall-clock time enters only here (requestAnimationFrame), scaled by the speed
 * control into simulated milliseconds; everything it draws comes from the deterministic core (world.ts).
 * Test hook: `window.__demo` (state(), advance(ms), pause(), play()) and data- attributes on each lane;
 * `?paused` in the URL starts the page paused, `?margin=<m>` picks the neuro-symbolic lane's survived-silence
 * margin (one of SURVIVED_MARGINS; the margin control writes it back, so the address reproduces the run).
 */
import { artifactFromBytes, makeSharedModel, type SharedModel } from '../runtime/index.js';
import { CAUSE_COLORS, clusterSvg, electionStrip, lineChart, NODE_COLORS, ruleStrip } from './charts.js';
import { DEFAULT_SURVIVED_MARGIN, isPolicyKind, POLICY_KINDS, POLICY_LABELS, rulesInForce, SURVIVED_MARGINS, type PolicyKind } from './policies.js';
import { DemoWorld, RULE_BITS, type DemoState, type Lane } from './world.js';

/** What the server (or the static bundle) says about itself: demo-info.json. */
interface DemoInfo {
  tool_version: string;
  model: { name: string; version: string; weights_sha256: string; manifest: string; weights: string } | null;
}

const WINDOW_MS = 20_000;
const RULE_ROWS = [
  { label: 'floor', bit: RULE_BITS.floor, color: '#59a14f' },
  { label: 'ceiling', bit: RULE_BITS.ceiling, color: '#e15759' },
  { label: 'rate limit', bit: RULE_BITS['rate limit'], color: '#edc948' },
  { label: 'pre-vote rule', bit: RULE_BITS['pre-vote'], color: '#76b7b2' },
  { label: 'fallback', bit: RULE_BITS.fallback, color: '#ff9da7' },
];

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo: #${id} missing from the page`);
  return el as T;
};

let model: SharedModel | null = null;
let modelNote = '';
let world: DemoWorld;
let playing = true;
let speed = 1;
let lastFrameMs = 0;
let lastRenderMs = 0;
let lastLeaders: Array<string | null> = [];

interface LaneView {
  root: HTMLElement;
  score: HTMLElement;
  cluster: SVGSVGElement;
  latency: SVGSVGElement;
  timeout: SVGSVGElement;
  neural: SVGSVGElement | null;
  confidence: SVGSVGElement | null;
  rules: SVGSVGElement | null;
  elections: SVGSVGElement;
  electionList: HTMLOListElement;
}
let views: LaneView[] = [];

async function loadModel(): Promise<void> {
  const status = $('model-status');
  try {
    const info = (await (await fetch('demo-info.json')).json()) as DemoInfo;
    $('tool-version').textContent = info.tool_version;
    if (!info.model) {
      modelNote = 'No model artifact was served: the neuro-symbolic policy runs on its static fallback (1000 ms).';
    } else {
      const [m, w] = await Promise.all([fetch(info.model.manifest).then((r) => r.text()), fetch(info.model.weights).then((r) => r.arrayBuffer())]);
      model = makeSharedModel(artifactFromBytes(m, new Uint8Array(w)), 'int8');
      modelNote = `Model ${info.model.name}@${info.model.version} (int8, ${model.lstm.kernel} kernel, sha256 ${info.model.weights_sha256.slice(0, 12)}…)`;
    }
  } catch (err) {
    modelNote = `The model could not be loaded (${(err as Error).message}); the neuro-symbolic policy runs on its static fallback.`;
  }
  status.textContent = modelNote;
}

function readPolicies(): PolicyKind[] {
  const a = $<HTMLSelectElement>('policy-a').value;
  const b = $<HTMLSelectElement>('policy-b').value;
  const out: PolicyKind[] = [];
  if (isPolicyKind(a)) out.push(a);
  if (isPolicyKind(b)) out.push(b);
  return out.length > 0 ? out : ['etcd'];
}

function fillNodeSelect(id: string, size: number, extra: Array<[string, string]>): void {
  const sel = $<HTMLSelectElement>(id);
  const keep = sel.value;
  sel.replaceChildren();
  for (const [value, label] of extra) sel.append(new Option(label, value));
  for (let i = 1; i <= size; i++) sel.append(new Option(`n${i}`, `n${i}`));
  if (Array.from(sel.options).some((o) => o.value === keep)) sel.value = keep;
}

/** (Re)creates the world from the cluster controls; link settings carry over. */
function restart(): void {
  const size = Number($<HTMLSelectElement>('size').value);
  const seed = Math.max(0, Math.floor(Number($<HTMLInputElement>('seed').value) || 0));
  const survivedMargin = Number($<HTMLSelectElement>('margin').value);
  world = new DemoWorld({ size, seed, policies: readPolicies(), survivedMargin }, model, $<HTMLSelectElement>('watch').value);
  // A new world starts without CPU contention or partitions: the controls say so too.
  $<HTMLInputElement>('cpu').value = '0';
  $('cpu-out').textContent = '0 %';
  fillNodeSelect('partition-node', size, [['leader', 'the leader']]);
  fillNodeSelect('cpu-node', size, []);
  fillNodeSelect('watch', size, [['auto', 'first follower']]);
  applyLinks();
  buildLanes();
  lastLeaders = world.lanes.map(() => null);
  render();
}

function applyLinks(): void {
  const latencyMs = Number($<HTMLInputElement>('latency').value);
  const jitterMs = Number($<HTMLInputElement>('jitter').value);
  const lossPct = Number($<HTMLInputElement>('loss').value);
  $('latency-out').textContent = `${latencyMs} ms`;
  $('jitter-out').textContent = `${jitterMs} ms`;
  $('loss-out').textContent = `${lossPct} %`;
  const l = world.links;
  if (l.latencyMs !== latencyMs || l.jitterMs !== jitterMs || l.lossPct !== lossPct) world.setLinks({ latencyMs, jitterMs, lossPct });
}

function svg(cls: string, label: string): SVGSVGElement {
  const el = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  el.setAttribute('class', cls);
  el.setAttribute('role', 'img');
  if (label) el.setAttribute('aria-label', label);
  return el;
}

function figure(caption: string, el: SVGSVGElement, legend?: HTMLElement): HTMLElement {
  const fig = document.createElement('figure');
  const cap = document.createElement('figcaption');
  cap.textContent = caption;
  fig.append(cap, el);
  if (legend) fig.append(legend);
  return fig;
}

function legend(items: Array<[string, string]>): HTMLElement {
  const ul = document.createElement('ul');
  ul.className = 'legend';
  for (const [color, text] of items) {
    const li = document.createElement('li');
    // An SVG swatch: its fill is a presentation attribute, which the page's CSP (no inline styles) allows.
    const sw = svg('swatch', '');
    sw.removeAttribute('role');
    sw.setAttribute('aria-hidden', 'true');
    sw.setAttribute('viewBox', '0 0 10 10');
    sw.innerHTML = `<rect width="10" height="10" rx="2" fill="${color}"/>`;
    li.append(sw, text);
    ul.append(li);
  }
  return ul;
}

function buildLanes(): void {
  const host = $('lanes');
  host.replaceChildren();
  host.dataset.count = String(world.lanes.length);
  views = world.lanes.map((lane, k) => {
    const root = document.createElement('section');
    root.className = 'lane';
    root.id = `lane-${k}`;
    root.dataset.policy = lane.policy;
    const h2 = document.createElement('h2');
    h2.id = `lane-${k}-title`;
    h2.textContent = `${String.fromCharCode(65 + k)} · ${POLICY_LABELS[lane.policy]}`;
    root.setAttribute('aria-labelledby', h2.id);
    const score = document.createElement('dl');
    score.className = 'score';
    const nodes = world.settings.size;
    const nodeLegend = legend(Array.from({ length: nodes }, (_, i) => [NODE_COLORS[i]!, `n${i + 1}`]));
    const cluster = svg('cluster', 'cluster diagram');
    const latency = svg('chart', 'heartbeat latency per follower');
    const timeout = svg('chart', 'election timeout per follower');
    const elections = svg('strip', 'elections by cause');
    const electionList = document.createElement('ol');
    electionList.className = 'election-list';
    electionList.setAttribute('aria-label', 'latest elections');
    const msgLegend = legend([['#3fb950', 'leader (ringed)'], ['#8aa0b8', 'AppendEntries / heartbeat'], ['#e8b14a', 'PreVote'], ['#f28e2b', 'Vote']]);
    root.append(h2);
    if (lane.policy === 'neuro') {
      root.dataset.survivedMargin = String(world.settings.survivedMargin);
      const inForce = document.createElement('p');
      inForce.className = 'rules-in-force';
      inForce.textContent = rulesInForce(lane.rules);
      root.append(inForce);
    }
    root.append(score, cluster, msgLegend, figure('Heartbeat latency each follower observes (ms)', latency),
      figure('Election timeout each follower holds (ms, log scale)', timeout, nodeLegend));
    let neural: SVGSVGElement | null = null;
    let confidence: SVGSVGElement | null = null;
    let rules: SVGSVGElement | null = null;
    if (lane.policy === 'neuro') {
      neural = svg('chart', 'neural proposal and guarded timeout of the watched follower');
      confidence = svg('chart', 'leader-lost probability and confidence of the watched follower');
      rules = svg('strip rules', 'symbolic rules fired');
      root.append(
        figure('Watched follower: neural proposal exp(q) (dashed) and the guarded timeout it holds (ms, log scale)', neural,
          legend([['#e8b14a', 'neural proposal'], ['#4e79a7', 'guarded timeout']])),
        figure('Watched follower: leader-lost head, P(leader lost) and its confidence |2P − 1|', confidence!,
          legend([['#e15759', 'P(leader lost)'], ['#b07aa1', 'confidence']])),
        figure('Symbolic rules that changed a follower\'s timeout', rules),
      );
    }
    root.append(figure('Elections and their cause', elections,
      legend(Object.entries(CAUSE_COLORS).map(([cause, color]) => [color, cause]))), electionList);
    host.append(root);
    return { root, score, cluster, latency, timeout, neural, confidence, rules, elections, electionList };
  });
}

function setScore(dl: HTMLElement, entries: Array<[string, string, string]>): void {
  if (dl.childElementCount !== entries.length * 2) {
    dl.replaceChildren();
    for (const [key, label] of entries) {
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.dataset.key = key;
      dl.append(dt, dd);
    }
  }
  entries.forEach(([, , value], i) => {
    const dd = dl.children[2 * i + 1] as HTMLElement;
    if (dd.textContent !== value) dd.textContent = value;
  });
}

function widthOf(el: Element, fallback: number): number {
  return Math.max(240, Math.round(el.clientWidth || fallback));
}

function draw(el: SVGSVGElement, heightPx: number, body: (widthPx: number) => string): void {
  const w = widthOf(el, 560);
  el.setAttribute('viewBox', `0 0 ${w} ${heightPx}`);
  el.setAttribute('height', String(heightPx));
  el.innerHTML = body(w);
}

function renderLane(lane: Lane, v: LaneView, k: number): void {
  const snap = lane.snapshot;
  const c = lane.counts();
  const term = Math.max(...snap.nodes.map((n) => n.term));
  const followers = snap.nodes.filter((n) => n.up && n.role === 'follower');
  const meanTimeout = followers.length ? followers.reduce((a, n) => a + n.electionTimeoutMs, 0) / followers.length : Number.NaN;
  const ds = v.root.dataset;
  ds.leader = snap.leaderId ?? '';
  ds.term = String(term);
  ds.elections = String(c.elections);
  ds.unnecessary = String(c.unnecessary);
  ds.downtimeMs = String(c.downtimeMs);
  ds.followerTimeoutMeanMs = Number.isFinite(meanTimeout) ? meanTimeout.toFixed(1) : '';
  setScore(v.score, [
    ['leader', 'Leader', snap.leaderId ? `${snap.leaderId} (term ${term})` : `none (term ${term})`],
    ['elections', 'Elections', String(c.elections)],
    ['unnecessary', 'Unnecessary', String(c.unnecessary)],
    ['downtime', 'Downtime', `${(c.downtimeMs / 1000).toFixed(2)} s`],
  ]);
  const isolated = new Set<string>();
  for (const f of snap.activeFaults) if (f.startsWith('partition:')) for (const id of f.slice(10).split('+')) isolated.add(id);
  draw(v.cluster, 300, (w) => clusterSvg(snap, w, 300, isolated));
  v.cluster.setAttribute('aria-label', `cluster of ${snap.nodes.length}: ${snap.nodes.map((n) => `${n.id} ${n.up ? n.role : 'crashed'} term ${n.term}`).join(', ')}`);

  const samples = lane.samples;
  const t1 = Math.max(world.nowMs, WINDOW_MS);
  const t0 = t1 - WINDOW_MS;
  const times = samples.map((s) => s.tMs);
  const perNode = (pick: (s: (typeof samples)[number]) => Float64Array, i: number): number[] => samples.map((s) => pick(s)[i]!);
  const nodeSeries = (pick: (s: (typeof samples)[number]) => Float64Array) =>
    snap.nodes.map((node, i) => ({ values: perNode(pick, i), color: NODE_COLORS[i]!, label: node.id }));
  const latSeries = nodeSeries((s) => s.heartbeatLatencyMs);
  let latMax = 10;
  for (const s of latSeries) for (let i = 0; i < s.values.length; i++) if (times[i]! >= t0 && s.values[i]! > latMax) latMax = s.values[i]!;
  latMax = niceCeil(latMax);
  draw(v.latency, 130, (w) => lineChart({ widthPx: w, heightPx: 130, timesMs: times, t0, t1, yMin: 0, yMax: latMax,
    yTicks: [0, latMax / 2, latMax], yFormat: (x) => x.toFixed(0), series: latSeries }));
  const markers = lane.elections.map((e) => ({ tMs: e.tMs, color: CAUSE_COLORS[e.cause]! }));
  draw(v.timeout, 150, (w) => lineChart({ widthPx: w, heightPx: 150, timesMs: times, t0, t1, yMin: 50, yMax: 10_000, log: true,
    yTicks: [100, 300, 1000, 3000, 10000], yFormat: (x) => (x >= 1000 ? `${x / 1000}s` : `${x}`), series: nodeSeries((s) => s.timeoutMs), markers }));
  if (v.neural && v.rules) {
    const watchedIdx = samples.map((s) => (s.watched ? Number(s.watched.slice(1)) - 1 : -1));
    const timeoutOfWatched = samples.map((s, i) => (watchedIdx[i]! >= 0 ? s.timeoutMs[watchedIdx[i]!]! : Number.NaN));
    draw(v.neural, 150, (w) => lineChart({ widthPx: w, heightPx: 150, timesMs: times, t0, t1, yMin: 50, yMax: 10_000, log: true,
      yTicks: [100, 300, 1000, 3000, 10000], yFormat: (x) => (x >= 1000 ? `${x / 1000}s` : `${x}`), markers,
      series: [
        // The guarded timeout first, so the proposal's dashes stay visible where the rules left it unchanged.
        { values: timeoutOfWatched, color: '#4e79a7', label: 'guarded timeout' },
        { values: samples.map((s) => s.proposalMs), color: '#e8b14a', label: 'neural proposal exp(q)', dashed: true },
      ] }));
    draw(v.confidence!, 110, (w) => lineChart({ widthPx: w, heightPx: 110, timesMs: times, t0, t1, yMin: 0, yMax: 1, markers,
      yTicks: [0, 0.5, 1], yFormat: (x) => x.toFixed(1),
      series: [
        { values: samples.map((s) => s.pLeaderLost), color: '#e15759', label: 'P(leader lost)' },
        { values: samples.map((s) => s.confidence), color: '#b07aa1', label: 'confidence |2P − 1|' },
      ] }));
    draw(v.rules, RULE_ROWS.length * 16 + 8, (w) => ruleStrip(samples, RULE_ROWS, t0, t1, w));
  }
  draw(v.elections, 28, (w) => electionStrip(lane.elections, t0, t1, w));
  const recent = lane.elections.slice(-5).reverse();
  const text = recent.map((e) => `${(e.tMs / 1000).toFixed(2)} s — ${e.node} → term ${e.term}: ${e.cause}`);
  if (v.electionList.dataset.text !== text.join('|')) {
    v.electionList.dataset.text = text.join('|');
    v.electionList.replaceChildren(...text.map((t) => Object.assign(document.createElement('li'), { textContent: t })));
  }
  if (lastLeaders[k] !== snap.leaderId) {
    lastLeaders[k] = snap.leaderId;
    $('live').textContent = `${String.fromCharCode(65 + k)}: ${snap.leaderId ? `new leader ${snap.leaderId}, term ${term}` : 'no leader'}`;
  }
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function render(): void {
  world.lanes.forEach((lane, k) => renderLane(lane, views[k]!, k));
  $('clock').textContent = `t = ${(world.nowMs / 1000).toFixed(1)} s`;
  const log = world.replayLog();
  if ($('actions').textContent !== log) $('actions').textContent = log;
}

function frame(nowMs: number): void {
  const dt = Math.min(250, Math.max(0, nowMs - lastFrameMs)); // a background tab must not jump minutes ahead
  lastFrameMs = nowMs;
  if (playing) world.advance(dt * speed);
  if (nowMs - lastRenderMs >= 100) {
    lastRenderMs = nowMs;
    render();
  }
  requestAnimationFrame(frame);
}

function setPlaying(p: boolean): void {
  playing = p;
  const b = $<HTMLButtonElement>('play');
  b.textContent = p ? 'Pause' : 'Play'; // the label says what a press does (no aria-pressed: it would contradict it)
  b.classList.toggle('paused', !p);
}

function wire(): void {
  $('controls').addEventListener('submit', (e) => e.preventDefault());
  for (const id of ['policy-a', 'policy-b']) {
    const sel = $<HTMLSelectElement>(id);
    if (id === 'policy-b') sel.append(new Option('none (one cluster)', 'none'));
    for (const k of POLICY_KINDS) sel.append(new Option(POLICY_LABELS[k], k));
  }
  $<HTMLSelectElement>('policy-a').value = 'etcd';
  $<HTMLSelectElement>('policy-b').value = 'neuro';
  for (let n = 3; n <= 9; n++) $<HTMLSelectElement>('size').append(new Option(String(n), String(n)));
  $<HTMLSelectElement>('size').value = '5';
  const margin = $<HTMLSelectElement>('margin');
  for (const m of SURVIVED_MARGINS) {
    const note = m === DEFAULT_SURVIVED_MARGIN ? ' (default)' : m === 0 ? ' (off)' : '';
    margin.append(new Option(`${m} ×${note}`, String(m)));
  }
  const fromUrl = new URLSearchParams(location.search).get('margin');
  margin.value = fromUrl !== null && SURVIVED_MARGINS.includes(Number(fromUrl)) ? String(Number(fromUrl)) : String(DEFAULT_SURVIVED_MARGIN);
  // A new margin is a new world (as a new size is), and the address carries it so a reload replays it.
  margin.addEventListener('change', () => {
    const u = new URL(location.href);
    u.searchParams.set('margin', margin.value);
    history.replaceState(null, '', u);
    restart();
  });
  for (const id of ['size', 'policy-a', 'policy-b']) $(id).addEventListener('change', restart);
  $('reset').addEventListener('click', restart);
  for (const id of ['latency', 'jitter', 'loss']) $(id).addEventListener('input', () => { applyLinks(); render(); });
  $('play').addEventListener('click', () => setPlaying(!playing));
  $('speed').addEventListener('change', () => { speed = Number($<HTMLSelectElement>('speed').value) || 1; });
  $('crash-leader').addEventListener('click', () => { world.crashLeader(); render(); });
  $('restart-crashed').addEventListener('click', () => { world.restartCrashed(); render(); });
  $('partition').addEventListener('click', () => { world.partition($<HTMLSelectElement>('partition-node').value); render(); });
  $('heal').addEventListener('click', () => { world.heal(); render(); });
  const cpu = (): void => {
    const pct = Number($<HTMLInputElement>('cpu').value);
    $('cpu-out').textContent = `${pct} %`;
    world.setCpu($<HTMLSelectElement>('cpu-node').value, pct);
    render();
  };
  $('cpu').addEventListener('change', cpu);
  $('cpu').addEventListener('input', () => { $('cpu-out').textContent = `${$<HTMLInputElement>('cpu').value} %`; });
  $('watch').addEventListener('change', () => { world.setWatch($<HTMLSelectElement>('watch').value); render(); });
  window.addEventListener('resize', () => render());
}

declare global {
  interface Window {
    __demo?: { state(): DemoState; advance(ms: number): void; pause(): void; play(): void; modelNote(): string };
  }
}

async function main(): Promise<void> {
  wire();
  await loadModel();
  restart();
  window.__demo = {
    state: () => world.state(),
    advance: (ms: number) => { world.advance(ms); render(); },
    pause: () => setPlaying(false),
    play: () => setPlaying(true),
    modelNote: () => modelNote,
  };
  // ?paused starts stopped, so no wall-clock time enters before the first control: a replayable session.
  if (new URLSearchParams(location.search).has('paused')) setPlaying(false);
  document.body.dataset.ready = 'true';
  lastFrameMs = performance.now();
  requestAnimationFrame(frame);
}

void main();
