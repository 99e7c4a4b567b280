/**
 * The browser side of the proof of work, served as `/preau-pow.js` (same origin: the CSP allows
 * it). `preauSolve(challenge, bits)` resolves with the nonce to send as `X-Preau-Nonce` (with the
 * challenge as `X-Preau-Challenge`). WebCrypto hashes in batches, yielding between them so the
 * page stays responsive; about a second at the default 16 bits on a mid-range phone.
 */
export const SOLVER_JS = `'use strict';
(function () {
  var encoder = new TextEncoder();
  function zeroBits(buf) {
    var bytes = new Uint8Array(buf);
    var n = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { n += 8; continue; }
      return n + Math.clz32(bytes[i]) - 24;
    }
    return n;
  }
  window.preauSolve = function (challenge, bits) {
    var next = 0;
    return new Promise(function (resolve, reject) {
      function batch() {
        var tries = [];
        for (var k = 0; k < 256; k++) {
          var nonce = (next++).toString(36);
          tries.push(crypto.subtle.digest('SHA-256', encoder.encode(challenge + ':' + nonce)).then((function (n) {
            return function (h) { return zeroBits(h) >= bits ? n : null; };
          })(nonce)));
        }
        Promise.all(tries).then(function (found) {
          for (var j = 0; j < found.length; j++) if (found[j] !== null) return resolve(found[j]);
          setTimeout(batch, 0);
        }, reject);
      }
      batch();
    });
  };
})();
`;
