// Starts `hebb lsp` for .hebb files: diagnostics as you type, hover, go to
// definition, completion and document symbols. The server is the `hebb`
// binary on the PATH, or the one the setting `hebb.path` names.
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration('hebb').get('path') || 'hebb';
  const server = { command, args: ['lsp'] };
  client = new LanguageClient('hebb', 'hebb language server', server, {
    documentSelector: [{ scheme: 'file', language: 'hebb' }],
  });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
