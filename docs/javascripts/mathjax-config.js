// MathJax reads this before it loads (mathjax/tex-chtml.js, served from this site).
// Formulas are typeset only where pymdownx.arithmatex marked them (class "arithmatex")
// and in the Markdown cells of the rendered notebooks, which keep Jupyter's $...$.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex|jp-MarkdownOutput",
  },
};
