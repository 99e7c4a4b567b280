import type { FireReport } from './fire.js';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const sec = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);

/** Per run, two bars (RTO, read-only window) against the 15 s target line. Plain SVG, no script. */
function chart(r: FireReport): string {
  const W = 640;
  const H = 220;
  const pad = 40;
  const maxS = Math.max(20, ...r.runs.map((x) => (x.figures.rtoMs ?? 0) / 1000));
  const y = (s: number) => H - pad - ((H - 2 * pad) * s) / maxS;
  const slot = (W - 2 * pad) / Math.max(1, r.runs.length);
  const bars = r.runs
    .map((run, i) => {
      const x = pad + i * slot + slot * 0.15;
      const w = slot * 0.3;
      const rto = (run.figures.rtoMs ?? maxS * 1000) / 1000;
      const win = (run.figures.readOnlyWindowMs ?? 0) / 1000;
      return (
        `<rect x="${x}" y="${y(rto)}" width="${w}" height="${y(0) - y(rto)}" fill="${run.ok ? '#1f6feb' : '#cf222e'}"><title>exercice ${run.run} : RTO ${sec(run.figures.rtoMs)}</title></rect>` +
        `<rect x="${x + w}" y="${y(win)}" width="${w}" height="${y(0) - y(win)}" fill="#bf8700"><title>exercice ${run.run} : lecture seule ${sec(run.figures.readOnlyWindowMs)}</title></rect>` +
        `<text x="${x + w}" y="${H - pad + 14}" font-size="11" text-anchor="middle">${run.run}</text>`
      );
    })
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="RTO et fenêtre de lecture seule par exercice">` +
    `<line x1="${pad}" x2="${W - pad}" y1="${y(15)}" y2="${y(15)}" stroke="#cf222e" stroke-dasharray="4"/><text x="${W - pad}" y="${y(15) - 4}" font-size="11" text-anchor="end">objectif 15 s</text>` +
    `<line x1="${pad}" x2="${pad}" y1="${pad / 2}" y2="${y(0)}" stroke="#555"/><line x1="${pad}" x2="${W - pad}" y1="${y(0)}" y2="${y(0)}" stroke="#555"/>` +
    `<text x="${pad - 6}" y="${y(0)}" font-size="11" text-anchor="end">0</text><text x="${pad - 6}" y="${y(maxS) + 10}" font-size="11" text-anchor="end">${Math.round(maxS)} s</text>` +
    bars +
    `</svg>`
  );
}

function failbackSection(r: FireReport): string {
  const f = r.summary.failback;
  if (!f) return '';
  const rows = r.runs
    .map((run) => {
      const fb = run.failback;
      if (!fb) return `<tr><td>${run.run}</td><td colspan="8">pas de retour (exercice arrêté avant)</td></tr>`;
      return `<tr><td>${run.run}</td><td>${fb.ok ? 'réussi' : `<strong>échec</strong>${fb.error ? ` : ${esc(fb.error)}` : ''}`}</td><td>${esc(fb.rejoin)}</td><td>${sec(fb.rejoinMs)}</td><td>${sec(fb.switchover.interruptionMs)}</td><td>${fb.switchover.readOnlyAnswers} / ${fb.switchover.otherFailures}</td><td>${fb.acknowledgedDuring}</td><td>${fb.missing.length} / ${fb.checked}</td><td>${fb.keysInProgress} / ${fb.stuckKeys}</td></tr>`;
    })
    .join('\n');
  return `<h2>Retour au site A (failback)</h2>
<p>Site A reconstruit (disques vides : membre etcd remplacé, PostgreSQL recopié de B par pg_basebackup), standby synchrone de B, puis bascule programmée vers A (API REST de Patroni) sous la même charge.
<strong>Retour en standby synchrone</strong> : médiane ${sec(f.rejoinMs.median)}, pire ${sec(f.rejoinMs.worst)}.
<strong>Interruption des écritures pendant la bascule programmée</strong> (tous les clients des deux sites) : médiane ${sec(f.switchoverInterruptionMs.median)}, pire ${sec(f.switchoverInterruptionMs.worst)}.
<strong>Perte</strong> sur les deux transitions : ${f.lost} rendu(s) accusé(s) absent(s) du primaire A sur ${f.acknowledged}.</p>
<table><thead><tr><th>exercice</th><th>résultat</th><th>retour de A</th><th>A standby synchrone en</th><th>interruption des écritures</th><th>refus « lecture seule » / autres échecs</th><th>rendus accusés pendant le retour</th><th>absents / relus sur A</th><th>clés « en cours » / restées</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
}

export function renderFireHtml(r: FireReport): string {
  const rows = r.runs
    .map(
      (run) =>
        `<tr><td>${run.run}</td><td>${run.ok ? 'réussi' : `<strong>échec</strong>${run.error ? ` : ${esc(run.error.split('\n')[0]!)}` : ''}`}</td><td>${sec(run.figures.rtoMs)}</td><td>${sec(run.figures.readOnlyWindowMs)}</td>` +
        `<td>${run.figures.readOnlyAnswers}</td><td>${run.figures.otherFailures}</td><td>${run.acknowledged}</td><td>${run.missing.length}</td><td>${run.reads.ok} / ${run.reads.failed}</td><td>${run.bannerSeen ? 'oui' : 'non'}</td><td>${run.etcdLeaderAtCut ?? '—'}</td><td>${run.siteAClients.wroteOnB}/${run.siteAClients.total}</td><td>${run.keysInProgress}${run.keysInProgressByHome ? ` (A ${run.keysInProgressByHome.a}, B ${run.keysInProgressByHome.b})` : ''}</td><td>${sec(run.keysFreedWorstMs)} (A ${sec(run.keysOfSiteAFreedWorstMs)})</td><td>${run.stuckKeys}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Exercice « le site A a brûlé »</title>
<style>body{font-family:system-ui,sans-serif;max-width:75rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:right}th{background:#f3f3f3}</style></head>
<body>
<h1>Exercice « le site A a brûlé »</h1>
<p>${esc(r.startedAt)} — ${r.summary.succeeded}/${r.summary.runs} exercices réussis ; machine : ${r.host.cpus} cœurs, charge ${r.host.loadAverage1m.toFixed(1)} au départ.</p>
<p><strong>RTO</strong> (de la coupure du site A aux écritures de nouveau acceptées au site B) : médiane ${sec(r.summary.rtoMs.median)}, pire ${sec(r.summary.rtoMs.worst)} (objectif ≤ 15 s).
<strong>Fenêtre de lecture seule</strong> vue par les clients du site B : médiane ${sec(r.summary.readOnlyWindowMs.median)}, pire ${sec(r.summary.readOnlyWindowMs.worst)}.
<strong>RPO</strong> : ${r.summary.lost} rendu(s) accusé(s) perdu(s) sur ${r.summary.acknowledged} (objectif 0).
<strong>Clés d’idempotence</strong> refusées « en cours » après la coupure : ${r.summary.keysInProgress ?? '—'}, restées bloquées : ${r.summary.stuckKeys ?? '—'} (un nœud mort libère les siennes à la fin de leur bail).</p>
<p>Réglages : Patroni ttl ${r.settings.patroni.ttl} s, loop_wait ${r.settings.patroni.loop_wait} s, retry_timeout ${r.settings.patroni.retry_timeout} s, synchronous_mode (non strict) ; etcd battement ${r.settings.etcd.heartbeatMs} ms, élection ${r.settings.etcd.electionMs} ms ; ${r.settings.pupilsPerSite} élèves et ${r.settings.nodesPerSite} nœud(s) Préau par site ; bail des clés d’idempotence ${r.settings.idempotencyLeaseMs / 1000} s.</p>
${chart(r)}
<p>Bleu : RTO ; ocre : fenêtre de lecture seule ; rouge : exercice en échec.</p>
<table><thead><tr><th>exercice</th><th>résultat</th><th>RTO</th><th>lecture seule</th><th>refus « lecture seule »</th><th>autres échecs</th><th>rendus accusés</th><th>perdus</th><th>lectures ok / échec</th><th>bandeau vu</th><th>leader etcd à la coupure</th><th>clients du site A servis au site B</th><th>clés « en cours » (409) après la coupure (clients de A, de B)</th><th>libérées au plus tard (celles de A)</th><th>clés restées « en cours »</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${failbackSection(r)}
</body></html>
`;
}
