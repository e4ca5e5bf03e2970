/**
 * The version line of `mda --version` and `mda deliver --version`: the package version and the
 * build id (scripts/build.mjs defines both; the build id also keys compiled configs), so an admin
 * can tell which build Postfix runs. Pure: no I/O.
 */
declare const __MDA_VERSION__: string | undefined;
declare const __MDA_BUILD__: string | undefined;

/** versionLine: `mda 0.1.0 (build 0.1.0-m4x2k9)`; from source (tests without a build): `mda source (build source)`. */
export function versionLine(
  version = typeof __MDA_VERSION__ === 'string' ? __MDA_VERSION__ : 'source',
  build = typeof __MDA_BUILD__ === 'string' ? __MDA_BUILD__ : 'source',
): string {
  return `mda ${version} (build ${build})\n`;
}
