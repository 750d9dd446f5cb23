// The CLI must work from a checkout and from the tarball `npm pack` makes, installed into an empty folder.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'fcgispec-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
}

describe('the fcgispec CLI', () => {
  it('prints --help from the checkout', () => {
    const out = run(join(root, 'harness/bin/fcgispec.js'), ['--help'], root);
    expect(out).toContain('fcgispec <command>');
  }, 60_000);

  it('works when installed from the packed tarball', () => {
    const packed = run('npm', ['pack', '--silent', '--pack-destination', work], root).trim().split('\n').pop()!;
    const app = join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-check', version: '1.0.0', private: true }));
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed)], app);
    const help = run('npx', ['--no-install', 'fcgispec', '--help'], app);
    expect(help).toContain('fcgispec <command>');
    // The packed catalog must carry the spec's copyright notice, as its licence asks.
    const files = run('npm', ['pack', '--dry-run', '--json'], root);
    expect(files).toContain('spec/fcgi-spec.LICENSE');
    expect(files).not.toContain('.test.ts');
  }, 300_000);
});
