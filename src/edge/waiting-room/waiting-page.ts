/**
 * The waiting page, shipped inside the server (no build step, nothing to lose on deploy): a static
 * French page, its style sheet and its script, all served from Préau itself — the document CSP
 * forbids inline scripts and styles. Static, so cacheable by browsers and any proxy: the page
 * costs the node nothing per visitor after the first; only the small status poll is dynamic.
 */
export const WAITING_PAGE_HTML = `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>File d’attente — Préau</title>
<link rel="stylesheet" href="/attente.css">
<script src="/attente.js" defer></script>
<noscript><meta http-equiv="refresh" content="60"></noscript>
</head>
<body>
<main>
  <h1>Vous avez une place dans la file d’attente</h1>
  <p>Beaucoup de monde se connecte à Préau en même temps. Votre place est gardée&nbsp;: inutile de recharger la page, elle se met à jour toute seule.</p>
  <div id="etat" role="status" aria-live="polite" aria-atomic="true">
    <p id="position" class="position">Recherche de votre place…</p>
    <p id="attente"></p>
  </div>
  <p id="tour" class="tour" hidden><a id="continuer" href="/">C’est votre tour&nbsp;: continuer vers la connexion</a></p>
  <p id="probleme" class="probleme" hidden></p>
  <noscript><p class="probleme">Cette page a besoin de JavaScript pour afficher votre place. Sans lui, elle se recharge chaque minute&nbsp;; votre place reste gardée.</p></noscript>
  <p class="aide">Votre ticket est personnel&nbsp;: il ne fonctionne que sur cet appareil et ce navigateur.</p>
</main>
</body>
</html>
`;

export const WAITING_PAGE_CSS = `:root { color-scheme: light dark; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5; }
body { margin: 0; padding: 1rem; display: flex; justify-content: center; }
main { max-width: 36rem; width: 100%; }
h1 { font-size: 1.5rem; }
.position { font-size: 2rem; font-weight: 700; margin: 0.5rem 0; }
.tour a { display: inline-block; padding: 0.75rem 1.25rem; border-radius: 0.5rem; background: #1d4ed8; color: #fff; font-weight: 700; text-decoration: none; }
.tour a:focus-visible { outline: 3px solid #f59e0b; outline-offset: 3px; }
.probleme { color: #b91c1c; }
.aide { font-size: 0.9rem; opacity: 0.85; }
@media (prefers-color-scheme: dark) { .probleme { color: #fca5a5; } }
`;

export const WAITING_PAGE_JS = `// La page de file d'attente de Préau : demande sa place au serveur, à intervalles tirés au hasard
// (jamais tous en même temps), et propose de continuer quand c'est son tour.
'use strict';
(function () {
  var position = document.getElementById('position');
  var attente = document.getElementById('attente');
  var tour = document.getElementById('tour');
  var continuer = document.getElementById('continuer');
  var probleme = document.getElementById('probleme');

  // Retour vers une page de Préau seulement (un chemin, jamais une autre adresse).
  var retour = new URLSearchParams(location.search).get('retour') || '/';
  if (!/^\/(?![/\\])/.test(retour)) retour = '/';
  continuer.setAttribute('href', retour);

  function duree(secondes) {
    if (secondes < 60) return 'moins d’une minute';
    var minutes = Math.ceil(secondes / 60);
    return 'environ ' + minutes + ' minute' + (minutes > 1 ? 's' : '');
  }

  function plusTard(ms) {
    // Un peu de hasard en plus de celui du serveur : les pages ouvertes ensemble se séparent.
    setTimeout(demander, ms + Math.random() * 1000);
  }

  function demander() {
    fetch('/api/v1/waiting-room', { credentials: 'same-origin', cache: 'no-store', headers: { accept: 'application/json' } })
      .then(function (reponse) {
        return reponse.json().then(function (corps) { return { statut: reponse.status, corps: corps, reessai: Number(reponse.headers.get('retry-after')) }; });
      })
      .then(function (r) {
        if (r.statut === 200 && r.corps.state === 'admitted') {
          position.textContent = 'C’est votre tour !';
          attente.textContent = '';
          tour.hidden = false;
          continuer.focus();
          return;
        }
        if (r.statut === 200) {
          probleme.hidden = true;
          position.textContent = 'Position ' + r.corps.position;
          attente.textContent = 'Attente estimée : ' + duree(r.corps.estimatedWaitSeconds) + '.';
          plusTard(r.corps.pollAfterMs);
          return;
        }
        if (r.corps && r.corps.error && r.statut < 500) {
          // Ticket expiré, déjà utilisé ou pas pour cet appareil : reprendre une place depuis la connexion.
          probleme.textContent = r.corps.error.message;
          probleme.hidden = false;
          tour.hidden = false;
          return;
        }
        plusTard((r.reessai > 0 ? r.reessai : 5) * 1000);
      })
      .catch(function () {
        probleme.textContent = 'La connexion est difficile ; nouvel essai automatique dans quelques secondes.';
        probleme.hidden = false;
        plusTard(5000);
      });
  }

  demander();
})();
`;
