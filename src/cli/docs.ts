/**
 * Where the docs are: they ship in the package (docs/*.md), so --help names them by the path
 * they have where the CLI is installed (there is no published URL to link).
 */
import * as path from 'path';

export function docPath(name: string): string {
  return path.resolve(__dirname, '../../../docs', name);
}
