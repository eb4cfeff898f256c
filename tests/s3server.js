// tests/s3server.js — the S3-compatible server of tests/cache-stores.bats: s3rver from npm,
// which checks every request's AWS SigV4 signature (key S3RVER, secret S3RVER), on 127.0.0.1.
// Usage: node tests/s3server.js DIR PORT BUCKET
'use strict';
const S3rver = require('@20minutes/s3rver');

const [directory, port, bucket] = process.argv.slice(2);
new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: [{ name: bucket, configs: [] }],
})
  .run()
  .then(({ port: p }) => console.log(`s3rver listening on 127.0.0.1:${p}`));
