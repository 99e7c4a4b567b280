/**
 * The operator's page for the edge (static; its data comes from GET /api/v1/admin/edge, which
 * only platform administrators get). No inline script or style: the document CSP forbids them.
 */
export const OPERATOR_PAGE_HTML = `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Entrée de Préau — exploitation</title>
<link rel="stylesheet" href="/admin/entree.css">
<script src="/admin/entree.js" defer></script>
</head>
<body>
<main>
  <h1>Entrée de Préau</h1>
  <p id="message" role="status" aria-live="polite">Chargement…</p>
  <section id="avis" aria-labelledby="avis-titre" hidden>
    <h2 id="avis-titre">À savoir sur ce nœud</h2>
    <ul id="avis-liste"></ul>
  </section>
  <form id="reglages" hidden>
    <fieldset>
      <legend>Réglages</legend>
      <p><label><input type="checkbox" id="crise"> Mode crise (hors de France : vérification d’abord, file d’attente en dernier)</label></p>
      <p><label for="mode">Vérification (preuve de travail)</label>
        <select id="mode"><option value="off">jamais</option><option value="auto">automatique</option><option value="always">toujours (appareils inconnus)</option></select></p>
      <p><label for="bits">Difficulté (bits, 16 ≈ une seconde)</label> <input type="number" id="bits" min="8" max="26"></p>
      <p><label for="bandeau">Bandeau d’incident (vide : aucun)</label><br><textarea id="bandeau" maxlength="500" rows="3" cols="60"></textarea></p>
      <p><label for="reseaux">Réseaux à l’étranger traités comme en France (un par ligne)</label><br><textarea id="reseaux" rows="3" cols="60"></textarea></p>
      <p><button type="submit">Enregistrer</button></p>
    </fieldset>
  </form>
  <h2>En direct</h2>
  <table><thead><tr><th scope="col">Série</th><th scope="col">Valeur</th></tr></thead><tbody id="series"></tbody></table>
</main>
</body>
</html>
`;

export const OPERATOR_PAGE_CSS = `body { font-family: system-ui, sans-serif; margin: 1rem; }
main { max-width: 60rem; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
td, th { border-bottom: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; }
td:last-child { text-align: right; }
#avis { border-left: 0.3rem solid #b35900; padding: 0 0.8rem; }
`;

export const OPERATOR_PAGE_JS = `'use strict';
(function () {
  var csrf = null;
  var $ = function (id) { return document.getElementById(id); };
  function show(state) {
    $('crise').checked = state.crisisMode;
    $('mode').value = state.challengeMode;
    $('bits').value = state.challengeBits;
    if (document.activeElement !== $('bandeau')) $('bandeau').value = state.banner || '';
    if (document.activeElement !== $('reseaux')) $('reseaux').value = state.franceNetworks.join('\\n');
    var notices = $('avis-liste');
    notices.textContent = '';
    (state.notices || []).forEach(function (n) {
      var li = document.createElement('li'); li.textContent = n; notices.appendChild(li);
    });
    $('avis').hidden = !state.notices || state.notices.length === 0;
    var body = $('series');
    body.textContent = '';
    state.series.forEach(function (s) {
      var tr = document.createElement('tr');
      var a = document.createElement('td'); a.textContent = s.series;
      var b = document.createElement('td'); b.textContent = String(s.value);
      tr.appendChild(a); tr.appendChild(b); body.appendChild(tr);
    });
  }
  function load() {
    fetch('/api/v1/me', { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (me) { csrf = me.csrfToken; });
    fetch('/api/v1/admin/edge', { credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, j: j }; });
    }).then(function (r) {
      if (!r.ok) { $('message').textContent = r.j.error ? r.j.error.message : 'Erreur'; return; }
      $('message').textContent = 'Mis à jour à ' + new Date().toLocaleTimeString('fr-FR');
      $('reglages').hidden = false;
      show(r.j);
      setTimeout(load, 2000);
    }, function () { $('message').textContent = 'Préau ne répond pas ; nouvel essai.'; setTimeout(load, 5000); });
  }
  $('reglages').addEventListener('submit', function (e) {
    e.preventDefault();
    var body = {
      crisisMode: $('crise').checked, challengeMode: $('mode').value, challengeBits: Number($('bits').value),
      banner: $('bandeau').value, franceNetworks: $('reseaux').value.split('\\n').map(function (x) { return x.trim(); }).filter(Boolean)
    };
    fetch('/api/v1/admin/edge', { method: 'PUT', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf || '' }, body: JSON.stringify(body) })
      .then(function (r) { return r.json(); }).then(function (j) { $('message').textContent = j.error ? j.error.message : 'Réglages enregistrés.'; if (!j.error) show(j); });
  });
  load();
})();
`;
