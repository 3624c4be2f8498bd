/** The viewer's stylesheet (served inline: the page loads nothing from elsewhere). */
export const viewerStyle = String.raw`
:root { --bg: #f4f5f8; --card: #fff; --ink: #1d2230; --muted: #6b7285; --line: #e3e6ee; --accent: #4f46e5; --soft: #eef0ff; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; align-items: center; gap: 14px; padding: 10px 22px; background: #171a26; color: #fff; flex-wrap: wrap; }
header h1 { font-size: 17px; margin: 0; } header h1 span { color: #a5b4fc; font-weight: 400; }
.pill { padding: 3px 10px; border-radius: 999px; font-size: 12px; background: #2a2f42; }
.pill.up { background: #065f46; } .pill.down { background: #7f1d1d; }
.line { font-family: var(--mono); font-size: 12px; color: #c7d2fe; }
.grow { flex: 1; }
.follow { display: flex; gap: 6px; }
input, select { font: inherit; padding: 5px 8px; border: 1px solid var(--line); border-radius: 8px; }
button { font: inherit; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 8px; padding: 5px 12px; cursor: pointer; }
button.ghost { background: transparent; color: var(--accent); } header button.ghost { color: #c7d2fe; border-color: #4b5270; }
main { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; padding: 16px 22px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 12px 16px; min-width: 0; }
.card h2 { font-size: 14px; margin: 0 0 8px; } .card h2 small { color: var(--muted); font-weight: 400; margin-left: 6px; }
svg { width: 100%; height: auto; display: block; }
svg .state rect { fill: #fff; stroke: #9aa3bd; stroke-width: 1.5; rx: 10; }
svg .state.current rect { fill: var(--soft); stroke: var(--accent); stroke-width: 3; }
svg .state.followed rect { stroke: #d97706; stroke-width: 3; stroke-dasharray: 5 3; }
svg .state.final rect { stroke-width: 3; }
svg .state text { font: 600 13px system-ui, sans-serif; fill: var(--ink); text-anchor: middle; }
svg .state text.count { font: 12px var(--mono); fill: var(--accent); }
svg .edge path { fill: none; stroke: #8a90a6; stroke-width: 1.2; }
svg .edge text { font: 10.5px var(--mono); fill: #4b5270; text-anchor: middle; }
.table { width: 100%; border-collapse: collapse; font: 12px var(--mono); }
.table td { border-top: 1px solid var(--line); padding: 2px 6px; }
.filters { display: flex; gap: 6px; margin-bottom: 8px; } .filters input { flex: 1; }
.stream { width: 100%; border-collapse: collapse; font: 12px var(--mono); }
.stream th { text-align: left; color: var(--muted); font-weight: 400; border-bottom: 1px solid var(--line); }
.stream td { padding: 1px 6px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 340px; }
tbody#events, tbody#followed { display: block; max-height: 340px; overflow-y: auto; }
.stream thead, .stream tbody tr { display: table; width: 100%; table-layout: fixed; }
.followed-state { font: 13px var(--mono); margin-bottom: 6px; }
`;
