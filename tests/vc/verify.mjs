// A second verifier for Jalon's credentials: Digital Bazaar's Node stack, fully offline.
//
//   node verify.mjs INPUT.json
//
// INPUT.json holds {"credential": {...}, "documents": {url: document}, "now": "ISO date"?}:
// the documents Jalon would serve (the key, the issuer profile, the status list credential,
// the OB 3.0 context). The W3C contexts come from Digital Bazaar's own packages, not from
// Jalon. Any other URL is refused. Prints one JSON object:
// {"verified": bool, "revoked": bool | null, "errors": [messages]}.
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';

const require = createRequire(import.meta.url);
const credentialsContext = require('@digitalbazaar/credentials-context');
const multikeyContext = require('@digitalbazaar/multikey-context');
const securityContext = require('@digitalbazaar/security-context');

const packaged = new Map([
  ...credentialsContext.contexts,
  ...multikeyContext.contexts,
  ...securityContext.contexts,
]);

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const documents = new Map(Object.entries(input.documents || {}));

async function documentLoader(url) {
  const document = packaged.get(url) ?? documents.get(url) ??
    documents.get(url.split('#')[0]);
  if(document === undefined) {
    throw new Error(`offline: refusing to fetch ${url}`);
  }
  return {contextUrl: null, documentUrl: url, document};
}

function messages(error) {
  const found = [];
  for(let e = error; e && found.length < 10; e = e.cause) {
    if(e.errors) {
      for(const inner of e.errors) {
        found.push(...messages(inner));
      }
    }
    if(e.message) {
      found.push(e.message);
    }
  }
  return found;
}

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
const result = await vc.verifyCredential({
  credential: input.credential,
  suite,
  documentLoader,
  checkStatus,
  now: input.now ? new Date(input.now) : undefined,
});
const errors = [];
if(result.error) {
  errors.push(...messages(result.error));
}
for(const item of result.results || []) {
  if(item.error) {
    errors.push(...messages(item.error));
  }
}
const statuses = result.statusResult?.results || [];
const revoked = statuses.length ? statuses.some(s => s.status === true) : null;
if(result.statusResult?.error) {
  errors.push(...messages(result.statusResult.error));
}
process.stdout.write(JSON.stringify({
  verified: result.verified === true,
  revoked,
  errors: [...new Set(errors)],
}) + '\n');
