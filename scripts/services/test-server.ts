import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheBinDir } from './temporal-cli.js';
import { findOnPath } from './process.js';

// Temporal's time-skipping test server (Java, from Maven Central); optional, for timer tests in minutes of
// workflow time rather than wall time. `@temporalio/testing` runs it as `<path> <port>`.
export const TEST_SERVER_VERSION = '1.31.0';

const POM = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.callwright</groupId><artifactId>test-server-classpath</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>${TEST_SERVER_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>2.0.16</version></dependency>
  </dependencies>
</project>
`;

/** Path to a launcher of the Java test server, resolving its classpath with Maven once; null without java/mvn. */
export async function ensureTestServer(): Promise<string | null> {
  const dir = join(cacheBinDir(), '..', `test-server-${TEST_SERVER_VERSION}`);
  const launcher = join(dir, 'temporal-test-server');
  if (existsSync(launcher)) return launcher;
  const java = findOnPath('java');
  const mvn = findOnPath('mvn');
  if (!java || !mvn) return null;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'pom.xml'), POM);
  const code = await new Promise<number | null>((resolve) => {
    spawn(mvn, ['-q', '-B', 'dependency:build-classpath', '-Dmdep.outputFile=classpath.txt'], {
      cwd: dir,
      stdio: ['ignore', 'inherit', 'inherit'],
    })
      .once('error', () => resolve(-1))
      .once('exit', resolve);
  });
  if (code !== 0) return null;
  const classpath = (await readFile(join(dir, 'classpath.txt'), 'utf8')).trim();
  await writeFile(launcher, `#!/bin/sh\nexec "${java}" -cp "${classpath}" io.temporal.testserver.TestServer "$@"\n`);
  await chmod(launcher, 0o755);
  return launcher;
}
