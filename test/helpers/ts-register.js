'use strict';
/**
 * `node -r test/helpers/ts-register.js` loads .ts files by transpiling each one with
 * typescript.transpileModule and the repository's tsconfig compiler options (no type
 * checking; Jest and `tsc --noEmit` do that). Integration children use it because they
 * run as plain node under unshare(1), outside Jest.
 */
const fs = require('fs');
const path = require('path');
const ts = require('typescript');

const tsconfigPath = path.join(__dirname, '..', '..', 'tsconfig.json');
const { config, error } = ts.readConfigFile(tsconfigPath, ts.sys.readFile);
if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
const { options } = ts.convertCompilerOptionsFromJson(config.compilerOptions, path.dirname(tsconfigPath));
const compilerOptions = { ...options, declaration: false, sourceMap: false, inlineSourceMap: true };

require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
  module._compile(outputText, filename);
};
