// MathJax 3 configuration (Material for MkDocs, "Math" with pymdownx.arithmatex in generic mode).
// The API reference and the Markdown pages wrap their math in .arithmatex elements (\( \), \[ \]);
// the notebooks' Markdown cells keep Jupyter's $...$ and $$...$$ inside .jupyter-wrapper.
// MathJax skips an element whose class matches ignoreHtmlClass, and everything below it, except
// below an element whose class matches processHtmlClass. Material's own elements are all md-*:
// so the math is looked for in .arithmatex elements and in the whole of a notebook, nowhere else.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: "md-\\S*|tex2jax_ignore|mathjax_ignore",
    processHtmlClass: "arithmatex|jupyter-wrapper",
  },
};

// Typeset again after Material's instant navigation replaces the page content.
document$.subscribe(() => {
  if (!MathJax.startup || !MathJax.typesetPromise) return; // the library has not loaded yet
  MathJax.startup.output.clearCache();
  MathJax.typesetClear();
  MathJax.texReset();
  MathJax.typesetPromise();
});
