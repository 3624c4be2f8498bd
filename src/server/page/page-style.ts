/** The live page's stylesheet (served inline: the page loads nothing from elsewhere). */
export const pageStyle = String.raw`
:root {
  --bg: #f4f5f8; --card: #fff; --ink: #1d2230; --muted: #6b7285; --line: #e3e6ee;
  --accent: #4f46e5; --accent-soft: #eef0ff; --ok: #10915c; --warn: #b45309; --bad: #c62828;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; align-items: center; gap: 14px; padding: 12px 22px; background: #171a26; color: #fff; }
header h1 { font-size: 17px; margin: 0; letter-spacing: .3px; }
header h1 span { color: #a5b4fc; font-weight: 400; }
.pill { display: inline-flex; align-items: center; gap: 6px; padding: 3px 10px; border-radius: 999px; font-size: 12px; background: #2a2f42; }
.pill::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: #8a90a6; }
.pill.up::before { background: #34d399; } .pill.down::before { background: #f87171; }
.me { font-family: var(--mono); font-size: 12px; color: #c7d2fe; }
header .grow { flex: 1; }
button { font: inherit; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 8px; padding: 6px 12px; cursor: pointer; }
button.ghost { background: transparent; color: var(--accent); }
header button.ghost { color: #c7d2fe; border-color: #4b5270; }
button:disabled { opacity: .45; cursor: default; }
input { font: inherit; border: 1px solid var(--line); border-radius: 8px; padding: 6px 10px; min-width: 0; background: #fff; color: var(--ink); }
input:disabled { background: var(--bg); color: var(--muted); }
input:focus { outline: 2px solid var(--accent-soft); border-color: var(--accent); }
main { display: grid; grid-template-columns: 250px 1fr 230px; gap: 16px; padding: 16px 22px; max-width: 1280px; margin: 0 auto; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 14px; box-shadow: 0 1px 2px rgba(20,24,40,.04); }
.card h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .08em; color: var(--muted); margin: 0 0 10px; }
.col { display: flex; flex-direction: column; gap: 16px; min-width: 0; }
form.row { display: flex; gap: 8px; }
form.row input { flex: 1; }
ul { list-style: none; margin: 0; padding: 0; }
.topics li { display: flex; align-items: center; gap: 6px; padding: 6px 8px; border-radius: 8px; cursor: pointer; font-family: var(--mono); font-size: 13px; }
.topics li.active { background: var(--accent-soft); color: var(--accent); }
.topics li span { flex: 1; overflow: hidden; text-overflow: ellipsis; }
.topics li button { padding: 1px 8px; font-size: 12px; }
.presence li { display: flex; align-items: center; gap: 8px; padding: 4px 2px; font-family: var(--mono); font-size: 12.5px; }
.avatar { width: 22px; height: 22px; border-radius: 50%; display: grid; place-items: center; color: #fff; font-size: 11px; font-family: system-ui, sans-serif; flex: none; }
.you { font-size: 11px; color: var(--accent); font-family: system-ui, sans-serif; }
.empty { color: var(--muted); font-size: 13px; }
.log { height: 430px; overflow-y: auto; display: flex; flex-direction: column; gap: 8px; padding: 4px 2px; }
.msg { max-width: 80%; padding: 7px 11px; border-radius: 12px; background: #f0f2f7; align-self: flex-start; word-break: break-word; }
.msg.mine { align-self: flex-end; background: var(--accent); color: #fff; }
.msg .meta { display: block; font-size: 11px; opacity: .7; font-family: var(--mono); margin-bottom: 2px; }
.msg.note { align-self: center; background: transparent; color: var(--muted); font-size: 12px; padding: 0; }
.msg.err { align-self: center; background: #fdecec; color: var(--bad); font-size: 12.5px; }
.compose { margin-top: 12px; }
.to { font-size: 12px; color: var(--muted); margin-bottom: 6px; }
.to b { font-family: var(--mono); color: var(--ink); }
.stats { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.stat { background: #f7f8fb; border-radius: 10px; padding: 10px; }
.stat b { display: block; font-size: 22px; font-variant-numeric: tabular-nums; }
.stat small { color: var(--muted); font-size: 11.5px; }
.topics { margin-top: 10px; }
.send-row { display: flex; gap: 8px; }
.send-row input { flex: 1; }
.about { color: var(--muted); font-size: 12px; }
.about code { font-family: var(--mono); color: var(--ink); }
.foot { color: var(--muted); font-size: 12px; margin-top: 10px; }
.banner { grid-column: 1 / -1; padding: 10px 14px; border-radius: 10px; background: #fff7e6; color: var(--warn); border: 1px solid #f5d9a8; }
.banner[hidden] { display: none; }
.topics li .sub-state { font-family: system-ui, sans-serif; font-size: 11px; color: var(--warn); }
.msg.gap { background: #fff7e6; color: var(--warn); }
.msg.note.recovered { color: var(--ok); }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } .log { height: 300px; } }
`;
