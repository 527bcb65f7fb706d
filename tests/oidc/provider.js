// The real OpenID provider the gateway's tests (and `make demo`) sign in at:
// npm's oidc-provider with its development login page, which accepts any
// login (it becomes `sub`) and any password.
//
//   node tests/oidc/provider.js --port P --client ID:SECRET:URI[,URI…] [--client …]
//
// Issuer: http://127.0.0.1:P. Prints "ready" once listening.
//
// Test controls (plain HTTP, JSON body):
//   POST /__test/account  {"sub": "...", "email": "..."}  the email claim of a login
//   POST /__test/mischief {"mode": "..."}  what is wrong with the ID tokens from now on:
//     none, wrong_aud, wrong_iss, wrong_nonce, expired, alg_none, rotate,
//     hs256 (signed with HMAC-SHA256 keyed by the client's secret) and
//     no_auth_time (the auth_time claim left out)
//     `rotate`: a new signing key with a new kid (key-2, key-3, … each time it
//     is posted), the only key at the JWKS URI and the one every ID token is
//     signed with from then on, whatever mode is set later.
// Everything else is the real provider; the defects are made by re-signing its
// ID tokens on the way out.

import Provider from 'oidc-provider';
import * as jose from 'jose';

function args() {
  const out = { port: 0, clients: [] };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--port') {
      out.port = Number(v);
      i += 1;
    } else if (a === '--client') {
      const first = v.indexOf(':');
      const second = v.indexOf(':', first + 1);
      if (first < 0 || second < 0) throw new Error(`--client wants ID:SECRET:URI[,URI…], got ${v}`);
      out.clients.push({
        client_id: v.slice(0, first),
        client_secret: v.slice(first + 1, second),
        redirect_uris: v.slice(second + 1).split(','),
      });
      i += 1;
    } else {
      throw new Error(`unknown argument ${a}`);
    }
  }
  if (!out.port) throw new Error('--port is required');
  return out;
}

async function signingKey(kid) {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid, alg: 'RS256', use: 'sig' };
}

function publicPart({ kty, n, e, kid, alg, use }) {
  return { kty, n, e, kid, alg, use };
}

const { port, clients } = args();
const issuer = `http://127.0.0.1:${port}`;
const emails = new Map();
const MODES = ['none', 'wrong_aud', 'wrong_iss', 'wrong_nonce', 'expired', 'alg_none', 'hs256', 'no_auth_time', 'rotate'];
let mode = 'none';
const original = await signingKey('key-1');
let rotated = null; // the key of the last `rotate`, once there was one
let rotations = 0;

const provider = new Provider(issuer, {
  clients: clients.map((c) => ({
    ...c,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    require_auth_time: true,
  })),
  jwks: { keys: [original] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  // Claims in the ID token itself, as Google's and Entra ID's are (by default
  // this provider moves them to its userinfo endpoint).
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, email: emails.get(sub) ?? `${sub}@provider.test`, email_verified: true };
      },
    };
  },
  // First-party clients: what they ask for is granted without a consent page.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid email');
    await grant.save();
    return grant;
  },
});
provider.proxy = false;

async function readJson(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : {};
}

const enc = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

async function mischievous(idToken) {
  const claims = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  const key = rotated ?? original;
  switch (mode) {
    case 'wrong_aud': claims.aud = 'someone-else'; break;
    case 'wrong_iss': claims.iss = 'http://evil.example'; break;
    case 'wrong_nonce': claims.nonce = 'not-the-nonce'; break;
    case 'expired': claims.iat = now - 7200; claims.exp = now - 3600; break;
    case 'no_auth_time': delete claims.auth_time; break;
    case 'alg_none': return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`;
    case 'hs256': {
      // The classic confusion: an HMAC keyed by the client secret, which the
      // client knows and so could "verify".
      const client = clients.find((c) => [claims.aud].flat().includes(c.client_id));
      const secret = new TextEncoder().encode(client?.client_secret ?? 'unknown');
      return new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secret);
    }
    default:
      if (!rotated) return idToken;
  }
  const privateKey = await jose.importJWK(key, 'RS256');
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(privateKey);
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/__test/account' && ctx.method === 'POST') {
    const { sub, email } = await readJson(ctx.req);
    emails.set(sub, email);
    ctx.body = { ok: true };
    return;
  }
  if (ctx.path === '/__test/mischief' && ctx.method === 'POST') {
    const body = await readJson(ctx.req);
    if (!MODES.includes(body.mode)) {
      ctx.status = 400;
      ctx.body = { error: `mode must be one of ${MODES.join(', ')}` };
      return;
    }
    mode = body.mode;
    if (mode === 'rotate') {
      rotations += 1;
      rotated = await signingKey(`key-${rotations + 1}`);
    }
    ctx.body = { ok: true, mode };
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.status === 200 && ctx.body?.id_token && (mode !== 'none' || rotated)) {
    ctx.body = { ...ctx.body, id_token: await mischievous(ctx.body.id_token) };
  }
  if (ctx.path === '/jwks' && ctx.status === 200 && rotated) {
    ctx.body = { keys: [publicPart(rotated)] };
  }
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write('ready\n');
});
