// Lint for the browser library and the pages (`make lint`). Names are checked by tsc, which
// knows the DOM (tsconfig.json), so no-undef is off here.
import js from "@eslint/js";

// What the exchange cannot join into one classic script (intercom/exchange/web.py
// join_library): only `import { a } from "./m.js"`, `export function|var ...` and
// `export { a }` are joined, with plain names, and nothing may need a module at run time
// (top-level await is a parse error at ecmaVersion 2020).
const JOINABLE = [
  { selector: "ImportDeclaration[specifiers.length=0]", message: "import names: import { a } from \"./m.js\"" },
  { selector: "ImportDefaultSpecifier, ImportNamespaceSpecifier", message: "import names: import { a } from \"./m.js\"" },
  { selector: "ImportDeclaration[source.value!=/^\\.\\/[\\w.-]+\\.js$/]", message: "import only the library's own modules: \"./m.js\"" },
  { selector: "ExportNamedDeclaration[source]", message: "no re-export from another module: import, then export { a }" },
  { selector: "ExportDefaultDeclaration, ExportAllDeclaration", message: "export names: export function f, export { a }" },
  { selector: "MetaProperty", message: "import.meta does not exist in the classic script" },
  { selector: "ImportExpression", message: "no dynamic import: the library is one script" }
];

// Renaming cannot be joined either: `import { a as b }` would need a second name for `a`.
const noRenaming = {
  meta: { type: "problem", schema: [] },
  create(context) {
    function check(node, outer, inner) {
      if (outer.name !== inner.name) context.report({ node, message: "no renaming: the joined modules share one scope" });
    }
    return {
      ImportSpecifier(node) { check(node, node.imported, node.local); },
      ExportSpecifier(node) { check(node, node.exported, node.local); }
    };
  }
};

export default [
  { ignores: ["node_modules/", ".venv/", "build/", "demo-data/", "station-data/"] },
  js.configs.recommended,
  {
    files: ["intercom/web/**/*.js"],
    languageOptions: { ecmaVersion: 2020, sourceType: "script" },
    rules: {
      "no-undef": "off",
      "no-unused-vars": ["error", { caughtErrors: "none" }],
      eqeqeq: ["error", "always"]
    }
  },
  {
    files: ["intercom/web/lib/**/*.js"],
    languageOptions: { sourceType: "module" },
    plugins: { joinable: { rules: { "no-renaming": noRenaming } } },
    rules: { "no-restricted-syntax": ["error", ...JOINABLE], "joinable/no-renaming": "error" }
  }
];
