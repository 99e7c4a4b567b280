import { describe, expect, it } from 'vitest';
import { parseFragment, type DefaultTreeAdapterTypes } from 'parse5';
import { sanitizeRichText, safeHref } from './rich-text.js';

const ALLOWED = new Set(['p', 'br', 'strong', 'b', 'em', 'i', 'u', 's', 'sub', 'sup', 'ul', 'ol', 'li', 'a', 'h3', 'h4', 'blockquote', 'code', 'pre']);

/** Parses as a browser would (parse5 follows the HTML standard) and checks every element and attribute. */
function assertSafe(html: string): void {
  const walk = (node: DefaultTreeAdapterTypes.ParentNode) => {
    for (const child of node.childNodes) {
      if (child.nodeName === '#text' || child.nodeName === '#comment') {
        expect(child.nodeName, html).toBe('#text');
        continue;
      }
      const el = child as DefaultTreeAdapterTypes.Element;
      expect(ALLOWED.has(el.tagName), `element <${el.tagName}> in ${html}`).toBe(true);
      expect(el.namespaceURI, html).toBe('http://www.w3.org/1999/xhtml');
      for (const attr of el.attrs) {
        expect(el.tagName === 'a' && ['href', 'rel', 'target'].includes(attr.name), `attribute ${attr.name} in ${html}`).toBe(true);
        if (attr.name === 'href') expect(attr.value, html).toMatch(/^(https?:\/\/|mailto:)/);
      }
      walk(el);
    }
  };
  walk(parseFragment(html));
}

describe('rich text sanitiser', () => {
  const cases: [string, string][] = [
    ['<p>Exercice <strong>3</strong> p. 42</p>', '<p>Exercice <strong>3</strong> p. 42</p>'],
    ['<script>alert(1)</script>Bonjour', 'Bonjour'],
    ['<img src=x onerror=alert(1)>', ''],
    ['<a href="javascript:alert(1)">x</a>', '<a>x</a>'],
    ['<a href="jav&#x09;ascript:alert(1)">x</a>', '<a>x</a>'],
    ['<a href=" https://exemple.fr/a?b=1&amp;c=2 " onclick="x()">lien</a>', '<a href="https://exemple.fr/a?b=1&amp;c=2" rel="noopener noreferrer nofollow" target="_blank">lien</a>'],
    ['<p onmouseover="x" style="color:red">a < b & c > d</p>', '<p>a &lt; b &amp; c &gt; d</p>'],
    ['<noscript><p title="</noscript><img src=x onerror=alert(1)>">', '&quot;&gt;'],
    ['<svg><script>alert(1)</script></svg>après', 'après'],
    ['<ul><li>un<li>deux</ul>', '<ul><li>un<li>deux</li></li></ul>'],
    ['<b><i>non fermé', '<b><i>non fermé</i></b>'],
    ['Texte simple, sans balise', 'Texte simple, sans balise'],
    ['<!-- commentaire -->visible', 'visible'],
    ['&lt;script&gt; reste du texte', '&lt;script&gt; reste du texte'],
  ];
  it.each(cases)('%s', (input, expected) => {
    const out = sanitizeRichText(input);
    expect(out).toBe(expected);
    assertSafe(out);
  });

  it('refuses every URL scheme but http, https and mailto', () => {
    expect(safeHref('https://eduscol.education.fr/')).toBe('https://eduscol.education.fr/');
    expect(safeHref('mailto:prof@college.fr')).toBe('mailto:prof@college.fr');
    for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', '\u0001javascript:x', 'data:text/html,<script>', 'vbscript:x', '/relative', '//evil.example', 'file:///etc/passwd']) {
      expect(safeHref(bad), bad).toBeUndefined();
    }
  });

  it('fuzz: random hostile markup always comes out safe for a real HTML parser, and stable', () => {
    const PIECES = [
      '<script>', '</script>', '<style>', '</style>', '<img src=x onerror=alert(1)>', '<a href="javascript:alert(1)">', '<a href=https://ok.fr>', '</a>',
      '<svg>', '</svg>', '<math>', '<mi xlink:href="javascript:x">', '<!--', '-->', '<![CDATA[', ']]>', '</', '<', '>', '"', "'", '=', '&', '&#', '&#x3c;',
      '&lt;', '<p', '<p>', '</p>', '<b>', '</i>', '<textarea>', '</textarea>', '<noscript>', '</noscript>', '<iframe srcdoc="<script>x</script>">', '<template>',
      '<table><tr><td>', '<form><input>', '<br/>', '<li>', '<ul>', 'texte', ' ', '\n', '\u0000', 'é', '<a href="&#106;avascript:x">', '<p title=">"<img src=x>">',
      '<base href=//evil>', '<object data=x>', '<embed src=x>', '<select><option>', '<xmp>', '</xmp>', '<plaintext>', '<title>', '</title>', '<?php ?>', '<!doctype html>',
    ];
    let seed = 20260907;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 3000; round++) {
      let input = '';
      const length = 1 + rand(25);
      for (let k = 0; k < length; k++) input += rand(8) === 0 ? String.fromCharCode(rand(0x3000)) : PIECES[rand(PIECES.length)];
      const out = sanitizeRichText(input);
      assertSafe(out);
      expect(sanitizeRichText(out), input).toBe(out);
    }
  });
});
