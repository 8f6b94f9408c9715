"""Sphinx configuration of the course website.

Not run from here: ``python tools/build_site.py OUTDIR`` copies this file and ``_static/``
into a staging folder next to the generated landing page, credits page and copies of the
notebooks, then runs Sphinx there. The notebooks are rendered from their stored outputs
(``nb_execution_mode = "off"``), and every asset the pages load (theme, fonts, search index,
MathJax) is served from the site itself.
"""

project = "Convolutional neural networks for CIFAR-10"
author = "The CIFAR-10 CNN course authors"
copyright = "2026, the CIFAR-10 CNN course authors. Code: MIT; prose and figures: CC BY 4.0"
html_title = "CNNs for CIFAR-10: a hands-on course"

extensions = ["myst_nb", "sphinx.ext.mathjax"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# -- notebooks: stored outputs only, never executed -------------------------------------------
nb_execution_mode = "off"
nb_merge_streams = True
# MyST-NB would fetch require.js and the widget manager from CDNs for notebooks that store
# widget state; ours store none, and build_site.py replaces widget outputs by a note.
nb_ipywidgets_js = {}

# -- markdown ---------------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "html_image"]
myst_heading_anchors = 3  # `[text](../index.md#for-instructors)` links to a section
# build_site.py turns warnings into errors (a link to a missing page or section, a missing
# image); a heading that skips a level is a matter of style, not a broken page.
suppress_warnings = ["myst.header"]

# -- math: MathJax 3 from the site's own _static/mathjax (copied there by build_site.py) ------
mathjax_path = "mathjax/tex-chtml.js"

# -- HTML -------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_copy_source = False  # build_site.py puts each original .ipynb next to its page instead
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": True,
    "use_repository_button": False,
    "launch_buttons": {},
    "search_bar_text": "Search the course…",
}
