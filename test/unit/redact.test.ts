import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stripCredentials } from '../../src/analysis/provenance';
import { redactRepositoryUrl, redactText, redactUri, secretsOf } from '../../src/redact';

const SECRET = 'Zq9-secret-Xv2';

/** Every form a secret has been seen to take in a connection string or a repository URL. */
const FORMS: Array<[string, string, string]> = [
  [
    'a password',
    `mongodb://user:${SECRET}@db.example.org:27017/admin`,
    'mongodb://db.example.org:27017/admin',
  ],
  ['a password holding @', `mongodb://user:p@ss${SECRET}@db.example.org/`, 'mongodb://db.example.org/'],
  ['a password holding / and :', `mongodb://user:a/b:${SECRET}@db1:27017/db`, 'mongodb://db1:27017/db'],
  ['a percent-encoded password', `mongodb://user:p%40${SECRET}@db1/`, 'mongodb://db1/'],
  [
    'an srv record',
    `mongodb+srv://user:${SECRET}@cluster0.example.net/?retryWrites=true`,
    'mongodb+srv://cluster0.example.net/',
  ],
  [
    'several hosts',
    `mongodb://user:${SECRET}@db1:27017,db2:27018,[::1]:27019/db?replicaSet=rs0`,
    'mongodb://db1:27017,db2:27018,[::1]:27019/db',
  ],
  [
    'tlsCertificateKeyFilePassword',
    `mongodb://db1/?tls=true&tlsCertificateKeyFilePassword=${SECRET}`,
    'mongodb://db1/',
  ],
  ['proxyPassword', `mongodb://db1/?proxyHost=p&proxyUsername=u&proxyPassword=${SECRET}`, 'mongodb://db1/'],
  [
    'authMechanismProperties',
    `mongodb://db1/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:${SECRET}`,
    'mongodb://db1/',
  ],
  ['a query without a path', `mongodb://u:${SECRET}@db1?authSource=admin`, 'mongodb://db1'],
  [
    'access_token',
    `https://github.com/org/repo.git?access_token=${SECRET}`,
    'https://github.com/org/repo.git',
  ],
  ['token', `https://git.example.org/org/repo?token=${SECRET}`, 'https://git.example.org/org/repo'],
  ['password', `https://git.example.org/repo?password=${SECRET}#frag`, 'https://git.example.org/repo'],
  ['secret', `https://git.example.org/repo?secret=${SECRET}`, 'https://git.example.org/repo'],
  [
    'sig',
    `https://acct.blob.core.windows.net/c/repo?sv=1&sig=${SECRET}`,
    'https://acct.blob.core.windows.net/c/repo',
  ],
  [
    'a presigned S3 URL',
    `https://bucket.s3.amazonaws.com/repo.git?X-Amz-Credential=${SECRET}%2F20240101&X-Amz-Security-Token=${SECRET}&X-Amz-Signature=${SECRET}`,
    'https://bucket.s3.amazonaws.com/repo.git',
  ],
  [
    'user and token in an https URL',
    `https://x-access-token:${SECRET}@github.com/org/repo.git`,
    'https://github.com/org/repo.git',
  ],
  [
    'a token alone as the user',
    `https://${SECRET}@github.com/org/repo.git`,
    'https://github.com/org/repo.git',
  ],
];

describe('redactUri', () => {
  for (const [form, uri, shown] of FORMS)
    test(`shows hosts only: ${form}`, () => {
      assert.equal(redactUri(uri), shown);
      assert.ok(!redactUri(uri).includes(SECRET));
    });

  test('leaves a URI without credentials as it was, bar its query', () => {
    assert.equal(redactUri('mongodb://127.0.0.1:27017'), 'mongodb://127.0.0.1:27017');
    assert.equal(redactUri('mongodb://127.0.0.1:27017/?tls=true'), 'mongodb://127.0.0.1:27017/');
    assert.equal(redactUri('https://github.com/org/repo.git'), 'https://github.com/org/repo.git');
  });

  test('shows only the scheme of what it cannot read with certainty', () => {
    // The last `@` may be the query's: the host cannot be told from the password.
    assert.equal(redactUri(`mongodb://u:${SECRET}@db1/?appName=a@b`), 'mongodb://***');
    // No `@`, so no password can be told from a host: `user:secret` is no host and port.
    assert.equal(redactUri(`mongodb://user:${SECRET}`), 'mongodb://***');
    assert.equal(redactUri(`mongodb://us er:${SECRET}@db 1/`), 'mongodb://***');
    assert.equal(redactUri(`mongodb://`), 'mongodb://***');
    assert.equal(redactUri(`user:${SECRET}@host`), '***');
    assert.equal(redactUri(''), '***');
  });
});

describe('redactRepositoryUrl', () => {
  test('keeps local paths and git@host:path, strips URLs to their hosts and path', () => {
    assert.equal(redactRepositoryUrl('git@github.com:org/repo.git'), 'git@github.com:org/repo.git');
    assert.equal(redactRepositoryUrl('/srv/git/repo.git'), '/srv/git/repo.git');
    assert.equal(redactRepositoryUrl('file:///srv/git/repo.git'), 'file:///srv/git/repo.git');
    assert.equal(redactRepositoryUrl(`ssh://git:${SECRET}@host/org/repo.git`), 'ssh://host/org/repo.git');
    assert.equal(redactRepositoryUrl(`user:${SECRET}@host:org/repo.git`), 'host:org/repo.git');
    for (const [, url] of FORMS) assert.ok(!redactRepositoryUrl(url).includes(SECRET), url);
  });

  test('is what provenance records', () => {
    assert.equal(
      stripCredentials(`https://oauth2:${SECRET}@gitlab.example.org/org/repo.git?access_token=${SECRET}`),
      'https://gitlab.example.org/org/repo.git',
    );
  });
});

describe('redactText', () => {
  test('reduces every URL in a message to its hosts, punctuation kept', () => {
    for (const [form, uri, shown] of FORMS) {
      const text = redactText(`cannot reach "${uri}", giving up; retry ${uri}.`);
      assert.equal(text, `cannot reach "${shown}", giving up; retry ${shown}.`, form);
    }
    assert.equal(redactText('see https://example.org/docs.'), 'see https://example.org/docs.');
  });

  test('replaces the known secrets wherever they are, inside a URL or not', () => {
    const uri = `mongodb://analyst:p@ss${SECRET}@db1:27017/?proxyPassword=proxy-${SECRET}&authMechanismProperties=AWS_SESSION_TOKEN:tok-${SECRET}`;
    const message = [
      `Invalid connection string ${uri}`,
      `password p@ss${SECRET} rejected`,
      `proxy answered proxy-${SECRET}`,
      `token tok-${SECRET} expired`,
    ].join('\n');
    const text = redactText(message, [uri]);
    assert.ok(!text.includes(SECRET), text);
    assert.match(text, /Invalid connection string mongodb:\/\/db1:27017\//);
    const apiKey = 'tk_live_0123456789';
    assert.equal(redactText(`bearer ${apiKey}`, [apiKey]), 'bearer ***');
  });

  test('takes its secrets from the variables that hold them', () => {
    const secrets = secretsOf({ MONGODB_URI: 'mongodb://u:pw@h/', TEMPORAL_API_KEY: 'key', PATH: '/bin' });
    assert.deepEqual(secrets, ['mongodb://u:pw@h/', 'key']);
  });
});
