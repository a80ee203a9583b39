// MathJax reads this before it loads (mathjax/tex-chtml.js, served from this site).
// Formulas are typeset only inside the elements pymdownx.arithmatex made (class
// "arithmatex") and inside the Markdown cells of the rendered notebooks, which keep
// Jupyter's $...$. MathJax skips an element with any class not named here (".+"), and
// everything inside it, unless a descendant is named: so a notebook cell's plain <p>
// and <td> are read, the navigation and code are not.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".+",
    processHtmlClass: "arithmatex|jp-MarkdownOutput",
  },
};
